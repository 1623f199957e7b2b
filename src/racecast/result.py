"""[`Forecast`][racecast.Forecast]: what a forecast says, computed from its simulated final counts.

Every number a forecast reports comes from ``final_draws`` (the simulated final
vote totals) through the contest rule's result; the tidy table, JSON, summary and
CSV are derived from those numbers in [`racecast.report`][]. A forecast checks its
own invariants when it is made ([`check_invariants`][racecast.result.check_invariants]);
a failure raises [`InternalError`][racecast.InternalError], because it is a bug in
racecast and never the user's fault.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from . import idata as _idata
from . import plot as _plot
from . import report
from ._html import html_summary
from .count import Count
from .errors import InternalError
from .model import Posterior
from .rules import Rule, RuleResult, lead_change_probability

__all__ = ["Forecast", "check_invariants", "read_forecast"]


@dataclass(frozen=True, eq=False)
class Forecast:
    """A forecast of a count: who wins, and the final shares, with uncertainty.

    Produced by [`forecast`][racecast.forecast] (or read back by
    [`read_forecast`][racecast.read_forecast]); immutable.

    Attributes
    ----------
    count : Count
        The count the forecast was made from (after ``min_share`` pooling).
    final_draws : numpy.ndarray
        ``(draws, candidates)`` simulated final vote totals, all of them (with
        a called race, ``rule_result.kept_draws`` marks those consistent with
        the call; every share and vote interval uses only those).
    added_by_type : numpy.ndarray
        ``(draws, batch types)`` simulated votes still to be added, by type.
    posterior : racecast.model.Posterior
        Posterior draws of the model parameters.
    rule : racecast.rules.Rule
        The contest rule.
    rule_result : racecast.rules.RuleResult
        The rule's events and probabilities.
    remaining : pandas.DataFrame
        What was treated as outstanding, by batch type: ``amount``, ``unit``,
        ``source`` (``"reported at release k"``, or ``"override"``), and
        ``counted`` (whether the type has counted ballots to learn from).
    interval : float
        Probability mass of the reported intervals (0.9 by default).
    settings : dict
        How the forecast was made: engine, draws, the integer seed that reproduces
        it, every option, the versions of racecast and its libraries, and a
        fingerprint of the count (see ``docs/api.md``).
    warnings : tuple of str
        The warnings raised while forecasting, as messages.
    """

    count: Count
    final_draws: np.ndarray
    added_by_type: np.ndarray
    posterior: Posterior
    rule: Rule
    rule_result: RuleResult
    remaining: pd.DataFrame
    interval: float
    settings: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def candidates(self) -> tuple[str, ...]:
        """Candidate names."""
        return self.count.candidates

    @property
    def win_probability(self) -> pd.Series:
        """Per candidate, the rule's headline probability (see ``docs/rules.md``).

        Plurality: P(win), sums to 1.  Majority: P(win outright), sums to
        1 - P(runoff).  Top two: P(advance), sums to 2.  Seats: P(win a seat),
        sums to the seats.  Threshold: P(pass) for Yes, P(fail) for No.
        """
        return self.rule_result.win_probability

    @property
    def outcomes(self) -> pd.DataFrame:
        """Every event the rule defines (``event``, ``candidate``, ``probability``), tidy."""
        return self.rule_result.outcomes

    @property
    def _kept_draws(self) -> np.ndarray:
        """The simulated final counts every output is computed from (those consistent with a call)."""
        keep = self.rule_result.kept_draws
        return self.final_draws if keep is None else self.final_draws[keep]

    @property
    def leader(self) -> str:
        """The candidate with the most votes counted so far (never a pooled "Other" bloc)."""
        return report.leader_of(self.count.totals)

    @property
    def lead_change_probability(self) -> float:
        """P(the candidate leading now does not finish first), whatever the rule.

        "First" is most votes in the final count (for a majority rule: who tops
        the first round); see [`lead_change_probability`][racecast.rules.lead_change_probability].
        With a called race it is conditional on the call.
        """
        return lead_change_probability(self.count.totals, self._kept_draws)

    @property
    def diagnostics(self) -> dict[str, Any]:
        """Engine diagnostics (NUTS: R-hat, ESS, divergences; fast: grid size)."""
        return dict(self.posterior.diagnostics)

    def _quantiles(self, values: np.ndarray, interval: float | None) -> pd.DataFrame:
        iv = self.interval if interval is None else interval
        if not 0.0 < iv < 1.0:
            raise ValueError(f"interval must be in (0, 1), got {iv}")
        lo, hi = (1 - iv) / 2, 1 - (1 - iv) / 2
        q = np.quantile(values, [0.5, lo, hi], axis=0)
        return pd.DataFrame(
            {"median": q[0], "lower": q[1], "upper": q[2]},
            index=pd.Index(self.candidates, name="candidate"),
        )

    @cached_property
    def _final_shares(self) -> np.ndarray:
        draws = self._kept_draws
        tot = draws.sum(axis=1, keepdims=True)
        return draws / np.where(tot > 0, tot, 1)

    @property
    def final_share(self) -> pd.DataFrame:
        """Final vote share per candidate: ``median``, ``lower``, ``upper`` (the interval)."""
        return self.final_share_interval()

    def final_share_interval(self, interval: float | None = None) -> pd.DataFrame:
        """Final-share quantiles at another interval mass, e.g. ``interval=0.5``."""
        return self._quantiles(self._final_shares, interval)

    @property
    def final_votes(self) -> pd.DataFrame:
        """Final votes per candidate: ``median``, ``lower``, ``upper``."""
        return self.final_votes_interval()

    def final_votes_interval(self, interval: float | None = None) -> pd.DataFrame:
        """Final-vote quantiles at another interval mass."""
        return self._quantiles(self._kept_draws.astype(float), interval)

    @property
    def final_margin(self) -> np.ndarray:
        """Simulated final margin, in share points, of the favourite over the best of the others.

        The favourite is the candidate with the highest win probability (the
        same one [`plot_forecast`][racecast.plot.plot_forecast] shows), so the
        margin is meaningful under every rule.
        """
        fav = self.candidates.index(str(self.win_probability.idxmax()))
        others = np.delete(self._final_shares, fav, axis=1)
        return 100.0 * (self._final_shares[:, fav] - others.max(axis=1))

    @cached_property
    def idata(self) -> Any:
        """ArviZ ``InferenceData``: posterior of the model and the simulated final count.

        Groups: ``posterior`` (type leans ``alpha``, drift ``delta``, scales, ...),
        ``posterior_predictive`` (``final_votes`` by candidate, ``added_votes`` by
        batch type), ``sample_stats`` for NUTS, and ``constant_data`` (the counted
        totals); ``attrs`` hold the settings (provenance) once.  Built on first access.
        """
        return _idata.build(self)

    @property
    def posterior_types(self) -> tuple[str, ...]:
        """Batch types the model carried (counted and outstanding)."""
        return tuple(self.settings["batch_types"])

    def table(self) -> pd.DataFrame:
        """The forecast as one tidy table, one row per candidate (see [`racecast.report`][])."""
        return report.forecast_table(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary (stable keys; see ``docs/cli.md``)."""
        return report.forecast_dict(self)

    def summary(self) -> str:
        """A readable multi-line summary."""
        return report.summary_text(self)

    def plot(self, **kwargs: Any) -> Any:
        """Final-share intervals per candidate and the simulated final margin.

        See [`plot_forecast`][racecast.plot.plot_forecast] (needs matplotlib); returns the figure.
        """
        return _plot.plot_forecast(self, **kwargs)

    def to_netcdf(self, path: str | os.PathLike[str]) -> None:
        """Save the forecast (with its count and provenance) to a netCDF file.

        [`read_forecast`][racecast.read_forecast] reads it back; every table
        (``win_probability``, ``final_share``, ``final_votes``, ``outcomes``) is identical.
        """
        _idata.save(self, path)

    def __repr__(self) -> str:
        wp = self.win_probability.sort_values(ascending=False)
        top = ", ".join(f"{c} {p:.3f}" for c, p in wp.head(3).items())
        return f"<Forecast {self.count.name!r} after release {self.count.release_ids[-1]}: P(win) {top}>"

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        table = report.forecast_table(self).set_index("candidate")
        cols = ["votes", "win_probability", "final_share_median", "final_share_lower", "final_share_upper"]
        shown = table[cols].sort_values("win_probability", ascending=False, kind="stable")
        shown["win_probability"] = report.display_probabilities(shown["win_probability"].to_numpy())
        at = self.count.released_at.iloc[-1]
        when = "" if pd.isna(at) else f" ({at:%Y-%m-%d %H:%M} UTC)"
        status = {
            "rule": self.rule.name,
            "engine": self.settings.get("engine"),
            "leader": self.leader,
            "P(lead changes)": f"{self.lead_change_probability:.3f}",
            "outstanding": report.outstanding_text(self.remaining),
            "interval": f"{round(self.interval * 100)}%",
        }
        if self.warnings:
            status["warnings"] = str(len(self.warnings))
        title = f"Forecast {self.count.name} after release {self.count.release_ids[-1]}{when}"
        return html_summary(title, status, shown)


def read_forecast(path: str | os.PathLike[str]) -> Forecast:
    """Read a forecast saved by [`Forecast.to_netcdf`][racecast.Forecast.to_netcdf].

    Parameters
    ----------
    path
        The netCDF file.

    Returns
    -------
    Forecast
        The saved forecast: its count, simulated final counts, rule result,
        posterior draws and settings (``Forecast.settings`` says how it was made).

    Raises
    ------
    CountFormatError
        When the file is not a forecast saved by racecast.

    Examples
    --------
    >>> import racecast, tempfile, os
    >>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    >>> fc = racecast.forecast(count[:4], seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "la.nc")
    >>> fc.to_netcdf(path)
    >>> racecast.read_forecast(path).win_probability.equals(fc.win_probability)
    True
    """
    return Forecast(**_idata.load(path))


def check_invariants(fc: Forecast) -> None:
    """Check what every forecast must satisfy; raise [`InternalError`][racecast.InternalError] if not.

    Simulated final totals are whole, non-negative numbers of votes; unless the
    forecast's priors let counted votes be revised (``revision_rel`` or
    ``revision_abs`` of [`Priors`][racecast.Priors]: revisions can lower a total), they are
    also at least the votes already counted.
    """
    problems = []
    final = fc.final_draws
    wp = fc.win_probability.to_numpy(dtype=float)
    priors = fc.settings.get("priors") or {}
    revised = bool(priors.get("revision_rel") or priors.get("revision_abs"))
    if final.shape != (fc.posterior.n_draws, len(fc.candidates)):
        problems.append(f"final_draws has shape {final.shape}")
    elif not np.issubdtype(final.dtype, np.integer):
        problems.append("simulated final totals are not whole numbers of votes")
    elif not revised and (final < fc.count.votes[-1]).any():
        problems.append("simulated final totals are below the votes already counted")
    elif (final < 0).any():
        problems.append("simulated final totals are negative")
    if not np.isfinite(wp).all() or (wp < 0).any() or (wp > 1).any():
        problems.append(f"win probabilities {wp.tolist()} are not all in [0, 1]")
    else:
        winners = np.asarray(fc.rule_result.winners, dtype=float)
        expected = winners.sum(axis=1).mean() if winners.size else float("nan")
        if not np.isclose(wp.sum(), expected, rtol=0, atol=1e-9):
            problems.append(
                f"win probabilities sum to {wp.sum()!r}, but the rule's winners per draw average {expected!r}"
            )
        if fc.rule.name == "plurality" and not np.isclose(wp.sum(), 1.0, rtol=0, atol=1e-9):
            problems.append(f"plurality win probabilities sum to {wp.sum()!r}, not 1")
    probs = fc.outcomes["probability"].to_numpy(dtype=float)
    defined = probs[np.isfinite(probs)]
    if (defined < 0).any() or (defined > 1).any():
        problems.append("an outcome probability is outside [0, 1]")
    if np.isnan(probs).any() and not fc.rule_result.called:
        problems.append("an outcome probability is NaN")
    if not np.isfinite(fc._final_shares).all():
        problems.append("simulated final shares are not finite")
    if problems:
        raise InternalError(
            f"{fc.count.name}: internal check failed ({'; '.join(problems)}). This is a bug in racecast "
            f"{fc.settings.get('racecast_version')}: please report it with the count file and the "
            "forecast() arguments."
        )
