"""A forecast as ArviZ ``InferenceData``, and saving it to / reading it from netCDF.

[`Forecast.idata`][racecast.Forecast.idata] holds the posterior draws, the simulated
final count and the counted votes, with the forecast's settings (its provenance) in
``attrs["racecast_settings"]`` once, as JSON. A saved forecast
([`Forecast.to_netcdf`][racecast.Forecast.to_netcdf]) is that ``InferenceData`` plus a
``racecast`` group holding what the forecast's tables are computed from: the count,
what was outstanding, and the rule's result; [`read_forecast`][racecast.read_forecast]
reads it back so that every table is identical.
"""

from __future__ import annotations

import dataclasses
import json
import os
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from . import rules as _rules
from .count import Count
from .errors import CountFormatError
from .model import Posterior
from .report import ForecastLike, jsonable
from .rules import Rule, RuleResult

__all__ = ["build", "load", "save"]

_FORMAT = "racecast.Forecast"
_GROUP = "racecast"
_ENGINE = "h5netcdf"


def build(fc: ForecastLike) -> Any:
    """The ``InferenceData`` of a forecast (posterior, simulated final count, counted votes, settings)."""
    import arviz as az

    p = fc.posterior
    chains = int(p.idata.posterior.sizes["chain"]) if p.idata is not None else 1
    s = p.n_draws // chains

    def shape(a: np.ndarray) -> np.ndarray:
        return a.reshape((chains, s, *a.shape[1:]))

    posterior = {
        name: shape(getattr(p, name)) for name in ("mu", "alpha", "delta", "sigma_type", "sigma_batch")
    }
    dims = {
        "mu": ["candidate"],
        "alpha": ["batch_type", "candidate"],
        "delta": ["batch_type", "candidate"],
        "final_votes": ["candidate"],
        "added_votes": ["batch_type"],
        "counted_votes": ["candidate"],
        "rho": ["batch_type"],
    }
    if p.place_shift is not None:
        posterior["place_shift"] = shape(p.place_shift)
        dims["place_shift"] = ["candidate"]
    if p.rho is not None and p.rate_sigma_batch is not None:
        posterior["rho"] = shape(p.rho)
        posterior["rate_sigma_batch"] = shape(p.rate_sigma_batch)
    kwargs: dict[str, Any] = {}
    if p.idata is not None and "sample_stats" in p.idata:
        stats = p.idata.sample_stats.data_vars.items()
        kwargs["sample_stats"] = {k: v.to_numpy() for k, v in stats if v.ndim == 2}
    predictive = {"final_votes": shape(fc.final_draws), "added_votes": shape(fc.added_by_type)}
    kept = fc.rule_result.kept_draws
    if fc.rule_result.called and kept is not None:
        predictive["consistent_with_call"] = shape(kept)
    return az.from_dict(
        posterior=posterior,
        posterior_predictive=predictive,
        constant_data={"counted_votes": fc.count.votes[-1]},
        coords={"candidate": list(fc.candidates), "batch_type": list(fc.settings["batch_types"])},
        dims=dims,
        attrs={"racecast_settings": json.dumps(jsonable(fc.settings))},
        **kwargs,
    )


def _rule_spec(rule: Rule) -> dict[str, Any]:
    fields: dict[str, Any] = dataclasses.asdict(rule) if dataclasses.is_dataclass(rule) else {}
    fields = {k: str(v) if isinstance(v, Fraction) else v for k, v in fields.items()}
    return {"class": type(rule).__name__, "module": type(rule).__module__, "fields": fields}


def _count_dataset(count: Count) -> Any:
    import xarray as xr

    released = [t.isoformat() if pd.notna(t) else "" for t in count.released_at]
    data = {
        "votes": (("release", "candidate"), count.votes),
        "release_id": (("release",), np.asarray(count.release_ids)),
        "release_batch_type": (("release",), np.array(count.release_batch_types, dtype=object)),
        "released_at": (("release",), np.array(released, dtype=object)),
        "ballots_counted": (("release",), np.asarray(count.ballots_counted, dtype=float)),
        "outstanding": (("release", "outstanding_type"), count.outstanding.to_numpy(dtype=float)),
        "outstanding_total": (("release",), np.asarray(count.outstanding_total, dtype=float)),
        "expected_total": (("release",), np.asarray(count.expected_total, dtype=float)),
    }
    for col in count.text.columns:
        values = [
            "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in count.text[col]
        ]
        data[f"text_{col}"] = (("release",), np.array(values, dtype=object))
    coords = {
        "candidate": np.array(count.candidates, dtype=object),
        "outstanding_type": np.array([str(c) for c in count.outstanding.columns], dtype=object),
    }
    return xr.Dataset(data, coords=coords)


def _result_dataset(fc: Any) -> Any:
    import xarray as xr

    res: RuleResult = fc.rule_result
    out = fc.outcomes
    kept = res.kept_draws
    data = {
        "win_probability": (("candidate",), res.win_probability.to_numpy(dtype=float)),
        "winners": (("kept_draw", "candidate"), np.asarray(res.winners)),
        "outcome_event": (("outcome",), np.array([str(v) for v in out["event"]], dtype=object)),
        "outcome_candidate": (("outcome",), np.array([str(v) for v in out["candidate"]], dtype=object)),
        "outcome_probability": (("outcome",), out["probability"].to_numpy(dtype=float)),
        "remaining_amount": (("remaining_type",), fc.remaining["amount"].to_numpy(dtype=float)),
        "remaining_unit": (("remaining_type",), np.array(fc.remaining["unit"].tolist(), dtype=object)),
        "remaining_source": (("remaining_type",), np.array(fc.remaining["source"].tolist(), dtype=object)),
        "remaining_counted": (("remaining_type",), fc.remaining["counted"].to_numpy(dtype=bool)),
    }
    if kept is not None:
        data["kept_draws"] = (("draw",), np.asarray(kept, dtype=bool))
    attrs = {
        "format": _FORMAT,
        "count_name": str(fc.count.name),
        "interval": float(fc.interval),
        "rule": json.dumps(_rule_spec(fc.rule)),
        "rule_result": json.dumps(
            {
                "rule": res.rule,
                "called": list(res.called),
                "called_probability": jsonable(res.called_probability),
                "win_probability_name": res.win_probability.name,
            }
        ),
        "warnings": json.dumps(list(fc.warnings)),
        "diagnostics": json.dumps(jsonable(fc.posterior.diagnostics)),
        "engine": str(fc.posterior.engine),
    }
    coords = {"remaining_type": np.array([str(t) for t in fc.remaining.index], dtype=object)}
    return xr.Dataset(data, coords=coords, attrs=attrs)


def save(fc: Any, path: str | os.PathLike[str]) -> None:
    """Write a forecast to ``path`` (netCDF 4, via h5netcdf); overwrites an existing file."""
    target = os.fspath(path)
    fc.idata.to_netcdf(target, engine=_ENGINE)
    _count_dataset(fc.count).to_netcdf(target, mode="a", group=f"{_GROUP}_count", engine=_ENGINE)
    _result_dataset(fc).to_netcdf(target, mode="a", group=_GROUP, engine=_ENGINE)


def _read_count(ds: Any, name: str) -> Count:
    released = pd.to_datetime(
        pd.Series([v or None for v in ds["released_at"].values], dtype=object), utc=True
    )
    text_cols = [v for v in ds.data_vars if str(v).startswith("text_")]
    text = pd.DataFrame({str(v)[5:]: list(ds[v].values) for v in text_cols})
    return Count(
        candidates=tuple(str(c) for c in ds["candidate"].values),
        votes=np.asarray(ds["votes"].values),
        release_batch_types=tuple(str(t) for t in ds["release_batch_type"].values),
        release_ids=np.asarray(ds["release_id"].values),
        released_at=released,
        ballots_counted=np.asarray(ds["ballots_counted"].values, dtype=float),
        outstanding=pd.DataFrame(
            ds["outstanding"].values, columns=[str(c) for c in ds["outstanding_type"].values]
        ),
        text=text,
        name=name,
        # files written before these were saved lack them (they were then never reported)
        **{
            col: np.asarray(ds[col].values, dtype=float)
            for col in ("outstanding_total", "expected_total")
            if col in ds.data_vars
        },
    )


def _read_rule(spec: dict[str, Any], path: str) -> Rule:
    cls = getattr(_rules, spec["class"], None)
    if not (isinstance(cls, type) and issubclass(cls, Rule)):
        raise CountFormatError(
            f"the forecast was made with the rule {spec['module']}.{spec['class']}, which racecast cannot "
            "rebuild; read its tables from the file with xarray",
            source=path,
        )
    return cls(**spec["fields"])


def _flat(a: np.ndarray) -> np.ndarray:
    """(chain, draw, ...) draws as one (draws, ...) array."""
    return a.reshape((-1, *a.shape[2:]))


def _read_posterior(idata: Any, engine: str, diagnostics: dict[str, Any]) -> Posterior:
    post = idata.posterior

    def flat(name: str) -> np.ndarray | None:
        return _flat(post[name].to_numpy()) if name in post else None

    return Posterior(
        alpha=flat("alpha"),  # type: ignore[arg-type]
        delta=flat("delta"),  # type: ignore[arg-type]
        sigma_batch=flat("sigma_batch"),  # type: ignore[arg-type]
        sigma_type=flat("sigma_type"),  # type: ignore[arg-type]
        mu=flat("mu"),  # type: ignore[arg-type]
        rho=flat("rho"),
        rate_sigma_batch=flat("rate_sigma_batch"),
        engine=engine,
        diagnostics=diagnostics,
        place_shift=flat("place_shift"),
    )


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The fields of a [`Forecast`][racecast.Forecast] saved at ``path``."""
    import arviz as az
    import xarray as xr

    source = os.fspath(path)
    try:
        meta = xr.load_dataset(source, group=_GROUP, engine=_ENGINE)
        count_ds = xr.load_dataset(source, group=f"{_GROUP}_count", engine=_ENGINE)
    except (OSError, ValueError) as exc:
        raise CountFormatError(f"not a forecast saved by racecast ({exc})", source=source) from None
    if meta.attrs.get("format") != _FORMAT:
        raise CountFormatError("not a forecast saved by racecast (no racecast group)", source=source)
    idata = az.from_netcdf(source, engine=_ENGINE)
    count = _read_count(count_ds, str(meta.attrs["count_name"]))
    info = json.loads(meta.attrs["rule_result"])
    cands = pd.Index(count.candidates, name="candidate")
    outcomes = pd.DataFrame(
        {
            "event": [str(v) for v in meta["outcome_event"].values],
            "candidate": [str(v) for v in meta["outcome_candidate"].values],
            "probability": meta["outcome_probability"].values,
        }
    )
    called_p = info["called_probability"]
    result = RuleResult(
        win_probability=pd.Series(
            meta["win_probability"].values, index=cands, name=info["win_probability_name"]
        ),
        outcomes=outcomes,
        winners=np.asarray(meta["winners"].values, dtype=bool),
        rule=info["rule"],
        called=tuple(info["called"]),
        called_probability=float("nan") if called_p is None else float(called_p),
        kept_draws=np.asarray(meta["kept_draws"].values, dtype=bool) if "kept_draws" in meta else None,
    )
    remaining = pd.DataFrame(
        {
            "amount": meta["remaining_amount"].values,
            "unit": [str(v) for v in meta["remaining_unit"].values],
            "source": [str(v) for v in meta["remaining_source"].values],
            "counted": meta["remaining_counted"].values.astype(bool),
        },
        index=pd.Index([str(t) for t in meta["remaining_type"].values], name="batch_type", dtype="str"),
    )
    diagnostics = json.loads(meta.attrs["diagnostics"])
    return {
        "count": count,
        "final_draws": _flat(idata.posterior_predictive["final_votes"].to_numpy()),
        "added_by_type": _flat(idata.posterior_predictive["added_votes"].to_numpy()),
        "posterior": _read_posterior(idata, str(meta.attrs["engine"]), diagnostics),
        "rule": _read_rule(json.loads(meta.attrs["rule"]), source),
        "rule_result": result,
        "remaining": remaining,
        "interval": float(meta.attrs["interval"]),
        "settings": json.loads(idata.attrs["racecast_settings"]),
        "warnings": tuple(json.loads(meta.attrs["warnings"])),
    }
