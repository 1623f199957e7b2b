"""One tidy table per forecast, and every output derived from it.

[`forecast_table`][racecast.report.forecast_table] has one row per candidate
(see [`TABLE_COLUMNS`][racecast.report.TABLE_COLUMNS]); the JSON of
[`Forecast.to_dict`][racecast.Forecast.to_dict], the readable
[`Forecast.summary`][racecast.Forecast.summary], the command line's CSV, the rows of
[`forecast_many`][racecast.forecast_many] and of a [`Replay`][racecast.Replay] are all
read off it, so a quantity has one name everywhere (``final_share_median``, never
``share_median``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from .count import Count
from .model import Posterior
from .pooling import is_pooled
from .rules import Rule, RuleResult

__all__ = [
    "CSV_COLUMNS",
    "TABLE_COLUMNS",
    "display_probabilities",
    "forecast_csv",
    "forecast_dict",
    "forecast_table",
    "summary_text",
]

_QUANTILES = ("median", "lower", "upper")
_INTERVALS = tuple(f"final_{what}_{q}" for what in ("share", "votes") for q in _QUANTILES)

TABLE_COLUMNS = (
    "contest",
    "as_of_release",
    "candidate",
    "votes",
    "win_probability",
    *_INTERVALS,
    "leader",
    "lead_change_probability",
    "interval",
    "rule",
    "engine",
)
"""Columns of [`forecast_table`][racecast.report.forecast_table], one row per candidate:
the final-share and final-vote intervals are ``final_share_median``, ``final_share_lower``,
``final_share_upper`` and ``final_votes_median`` ... ``final_votes_upper``."""

CSV_COLUMNS = (
    "candidate",
    "votes",
    "win_probability",
    *_INTERVALS,
    "lead_change_probability",
    "as_of_release",
    "interval",
)
"""Columns of ``racecast forecast --format csv`` (a subset of the table, in this order)."""


class ForecastLike(Protocol):
    """What the report reads of a forecast ([`Forecast`][racecast.Forecast] has it all)."""

    @property
    def count(self) -> Count: ...
    @property
    def rule(self) -> Rule: ...
    @property
    def rule_result(self) -> RuleResult: ...
    @property
    def remaining(self) -> pd.DataFrame: ...
    @property
    def interval(self) -> float: ...
    @property
    def settings(self) -> dict[str, Any]: ...
    @property
    def warnings(self) -> tuple[str, ...]: ...
    @property
    def posterior(self) -> Posterior: ...
    @property
    def final_draws(self) -> np.ndarray: ...
    @property
    def added_by_type(self) -> np.ndarray: ...
    @property
    def candidates(self) -> tuple[str, ...]: ...
    @property
    def win_probability(self) -> pd.Series: ...
    @property
    def final_share(self) -> pd.DataFrame: ...
    @property
    def final_votes(self) -> pd.DataFrame: ...
    @property
    def outcomes(self) -> pd.DataFrame: ...
    @property
    def leader(self) -> str: ...
    @property
    def lead_change_probability(self) -> float: ...
    @property
    def diagnostics(self) -> dict[str, Any]: ...
    @property
    def final_margin(self) -> np.ndarray: ...


def forecast_table(fc: ForecastLike) -> pd.DataFrame:
    """The forecast as one tidy table, one row per candidate.

    Columns: [`TABLE_COLUMNS`][racecast.report.TABLE_COLUMNS].

    Examples
    --------
    >>> import racecast
    >>> from racecast.report import forecast_table
    >>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    >>> table = forecast_table(racecast.forecast(count[:4], seed=0))
    >>> table[["candidate", "votes", "leader"]].to_dict("records")[1]
    {'candidate': 'Rick Caruso', 'votes': 273941, 'leader': True}
    """
    columns = candidate_columns(fc)
    n = len(fc.candidates)
    fv = _quantile_array(fc.final_votes, list(fc.candidates))
    for j, q in enumerate(_QUANTILES):
        columns[f"final_votes_{q}"] = [float(v) for v in fv[:, j]]
    columns["contest"] = [fc.count.name] * n
    columns["as_of_release"] = [int(fc.count.release_ids[-1])] * n
    columns["interval"] = [float(fc.interval)] * n
    columns["rule"] = [fc.rule.name] * n
    columns["engine"] = [fc.settings.get("engine")] * n
    return pd.DataFrame(columns, columns=list(TABLE_COLUMNS))


def candidate_columns(fc: ForecastLike) -> dict[str, list[Any]]:
    """The per-candidate columns of the table that [`forecast_many`][racecast.forecast_many] reads.

    ``candidate``, ``votes``, ``win_probability``, ``final_share_median``/``_lower``/``_upper``,
    ``leader`` and ``lead_change_probability``, as plain Python values (no DataFrame:
    a ballot reads them for hundreds of contests).
    """
    cands = list(fc.candidates)
    votes = fc.count.votes[-1]
    win = _by_candidate(fc.win_probability, cands).to_numpy()
    fs = _quantile_array(fc.final_share, cands)
    leader, lcp = fc.leader, float(fc.lead_change_probability)
    columns: dict[str, list[Any]] = {
        "candidate": cands,
        "votes": [int(v) for v in votes],
        "win_probability": [float(p) for p in win],
    }
    for j, q in enumerate(_QUANTILES):
        columns[f"final_share_{q}"] = [float(v) for v in fs[:, j]]
    columns["leader"] = [c == leader for c in cands]
    columns["lead_change_probability"] = [lcp] * len(cands)
    return columns


def _by_candidate(obj: Any, cands: list[str]) -> Any:
    """A Series or DataFrame indexed by candidate, in the order of ``cands``."""
    return obj if list(obj.index) == cands else obj.loc[cands]


def _quantile_array(frame: pd.DataFrame, cands: list[str]) -> np.ndarray:
    """``(candidates, 3)`` median, lower and upper of a quantile table, rows in the order of ``cands``."""
    if list(frame.columns) != list(_QUANTILES):
        frame = frame[list(_QUANTILES)]
    return np.asarray(_by_candidate(frame, cands).to_numpy())


def jsonable(obj: Any) -> Any:
    """Plain JSON values: numpy scalars unwrapped, non-finite floats as ``None``, tuples as lists."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return str(obj)


def forecast_dict(fc: ForecastLike) -> dict[str, Any]:
    """JSON-serialisable summary with stable keys (see ``docs/cli.md``)."""
    table = forecast_table(fc)
    return {
        "racecast_version": fc.settings.get("racecast_version"),
        "count": fc.count.name,
        "releases": len(fc.count),
        "as_of_release": int(fc.count.release_ids[-1]),
        "rule": fc.rule.name,
        "called": list(fc.rule_result.called),
        "called_probability": jsonable(fc.rule_result.called_probability),
        "interval": fc.interval,
        "leader": fc.leader,
        "lead_change_probability": float(fc.lead_change_probability),
        "candidates": [
            {
                "name": row["candidate"],
                "votes": int(row["votes"]),
                "win_probability": float(row["win_probability"]),
                "final_share": {q: float(row[f"final_share_{q}"]) for q in _QUANTILES},
                "final_votes": {q: float(row[f"final_votes_{q}"]) for q in _QUANTILES},
            }
            for row in table.to_dict("records")
        ],
        "outcomes": [
            {"event": r.event, "candidate": r.candidate, "probability": float(r.probability)}
            for r in fc.outcomes.itertuples()
        ],
        "remaining": [
            {"batch_type": t, **jsonable(row)} for t, row in fc.remaining.to_dict(orient="index").items()
        ],
        "diagnostics": jsonable(fc.diagnostics),
        "settings": jsonable(fc.settings),
        "warnings": list(fc.warnings),
    }


def outstanding_text(remaining: pd.DataFrame) -> str:
    """``"late_mail 331,000 ballots, ..."`` for the types with something outstanding, or ``"nothing"``.

    An amount projected from an expected total rather than published says so: ``(projected)``.
    """
    projected = remaining["source"].astype(str).str.startswith("projected")
    parts = [
        f"{t} {float(r.amount):,.0f} {r.unit}" + (" (projected)" if projected[t] else "")
        for t, r in remaining.iterrows()
        if float(r.amount) > 0
    ]
    return ", ".join(parts) or "nothing"


def display_probabilities(p: Sequence[float] | np.ndarray, digits: int = 3) -> np.ndarray:
    """Probabilities rounded for display so that they add up to what they add up to.

    When the probabilities sum to a whole number (1 for P(win) of one winner, the seats
    for P(seat)), they are rounded by largest remainders: each is rounded down to
    ``digits`` decimals and the units still missing go to the largest remainders, so
    the displayed numbers keep that sum (0.4995, 0.3335, 0.167 show as 0.500, 0.333,
    0.167, not 0.500, 0.334, 0.167).  No probability moves by more than one unit of the
    last digit.  Otherwise (P(pass) of a measure, NaN) each is rounded on its own.

    Examples
    --------
    >>> display_probabilities([0.4995, 0.3335, 0.167]).tolist()
    [0.5, 0.333, 0.167]
    """
    x = np.asarray(p, dtype=float)
    total = x.sum()
    scale = 10**digits
    if not np.isfinite(total) or abs(total - round(total)) > 1e-9 or x.size < 2:
        return np.round(x, digits)
    units = x * scale
    floor = np.floor(units + 1e-9)
    missing = round(float(round(total) * scale - floor.sum()))
    order = np.argsort(-(units - floor), kind="stable")
    floor[order[: max(missing, 0)]] += 1
    return floor / scale


def summary_text(fc: ForecastLike) -> str:
    """A readable multi-line summary, candidates by the rule's probability."""
    table = forecast_table(fc).set_index("candidate")
    heading = (
        f"racecast forecast of {fc.count.name} after release {fc.count.release_ids[-1]} "
        f"({len(fc.count)} releases, engine {fc.settings.get('engine')}, rule {fc.rule.name})"
    )
    lines = [heading, f"outstanding: {outstanding_text(fc.remaining)}"]
    width = max(len(c) for c in fc.candidates)
    pct = round(fc.interval * 100)
    label = getattr(fc.rule, "win_label", "P(win)")
    lines.append(f"{'candidate':<{width}}  {'votes':>11}  {label:>12}  final share (median, {pct}% interval)")
    shown = pd.Series(display_probabilities(table["win_probability"].to_numpy()), index=table.index)
    for c in table["win_probability"].sort_values(ascending=False).index:
        r = table.loc[c]
        lines.append(
            f"{c:<{width}}  {int(r['votes']):>11,}  {shown[c]:>12.3f}  "
            f"{100 * r['final_share_median']:5.1f}%  "
            f"[{100 * r['final_share_lower']:5.1f}%, {100 * r['final_share_upper']:5.1f}%]"
        )
    lines.extend(fc.rule_result.summary_lines())
    lines.append(f"P(current leader {fc.leader} does not finish first): {fc.lead_change_probability:.3f}")
    return "\n".join(lines)


def csv_text(table: pd.DataFrame, columns: Sequence[str]) -> str:
    """``columns`` of a table as CSV text: floats exactly (``repr``), integers and labels as they are."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in table[list(columns)].itertuples(index=False):
        writer.writerow([repr(float(v)) if isinstance(v, (float, np.floating)) else v for v in row])
    return buf.getvalue()


def forecast_csv(fc: ForecastLike, columns: Sequence[str] = CSV_COLUMNS) -> str:
    """The forecast table as CSV text (default columns: [`CSV_COLUMNS`][racecast.report.CSV_COLUMNS])."""
    return csv_text(forecast_table(fc), columns)


def leader_of(totals: pd.Series) -> str:
    """The candidate with the most votes counted (never a pooled "Other" bloc); the first one on a tie."""
    keep = np.flatnonzero([not is_pooled(c) for c in totals.index])
    if not keep.size:
        raise ValueError("no candidate to lead: every column is a pooled bloc")
    return str(totals.index[keep[int(np.argmax(totals.to_numpy()[keep]))]])
