"""The :func:`forecast` entry point and its :class:`Forecast` result.

Data flows one way: the validated :class:`~racecast.count.Count` and what is
outstanding go into the model (:mod:`racecast.model`), its posterior drives the
simulation of the remaining count (:mod:`racecast.simulate`), and a contest rule
(:mod:`racecast.rules`) turns the simulated final totals into probabilities.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._version import __version__ as _version
from .count import _TYPE_RE, MAX_NUMBER, Count, _snake
from .errors import (
    ForecastInputError,
    RacecastError,
    StaleOutstandingWarning,
    UnseenBatchTypeWarning,
)
from .model import Posterior, Priors, build_model_data, fit_posterior
from .pooling import is_pooled, pool_candidates, pooling_plan
from .prior import Prior
from .rules import Rule, RuleResult, lead_change_probability, resolve_rule
from .simulate import RemainingSpec, simulate_final

__all__ = ["forecast", "Forecast", "DEFAULT_OUTSTANDING_SD"]

#: Default relative sd of outstanding-ballot estimates (registrars' estimates
#: are routinely 10-20% off; LA 2022's Nov 9 estimate was ~14% low).
DEFAULT_OUTSTANDING_SD = 0.15

Engine = Literal["nuts", "fast"]


@dataclass(frozen=True, eq=False)
class Forecast:
    """A forecast of a count: who wins, and the final shares, with uncertainty.

    Produced by :func:`forecast`; immutable.

    Attributes
    ----------
    count : Count
        The count the forecast was made from (after ``min_share`` pooling).
    final_draws : numpy.ndarray
        ``(draws, candidates)`` simulated final vote totals, all of them (with
        a called race, ``rule_result.kept_draws`` marks those consistent with
        the call; every share and vote interval uses only those).
    posterior : racecast.model.Posterior
        Posterior draws of the model parameters.
    rule : racecast.rules.Rule
        The contest rule.
    rule_result : racecast.rules.RuleResult
        The rule's events and probabilities.
    remaining : pandas.DataFrame
        What was treated as outstanding, by batch type: ``amount``, ``unit``,
        ``source`` (``"reported"`` with the release, or ``"override"``), and
        ``counted`` (whether the type has counted ballots to learn from).
    interval : float
        Probability mass of the reported intervals (0.9 by default).
    settings : dict
        Engine, draws, seed, outstanding sd and priors used, plus the racecast
        version, so a saved forecast says how it was made.
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

    # ------------------------------------------------------------ headline
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

    # -- contest rules (issue 4): the draws a called race keeps, leader, lead change ----------
    @property
    def _kept_draws(self) -> np.ndarray:
        """The simulated final counts every output is computed from (those consistent with a call)."""
        keep = self.rule_result.kept_draws
        return self.final_draws if keep is None else self.final_draws[keep]

    @property
    def leader(self) -> str:
        """The candidate with the most votes counted so far (never a pooled "Other" bloc)."""
        totals = self.count.totals
        return str(totals[[not is_pooled(c) for c in totals.index]].idxmax())

    @property
    def lead_change_probability(self) -> float:
        """P(the candidate leading now does not finish first), whatever the rule.

        "First" is most votes in the final count (for a majority rule: who tops
        the first round); see :func:`racecast.rules.lead_change_probability`.
        With a called race it is conditional on the call.
        """
        return lead_change_probability(self.count.totals, self._kept_draws)

    # -----------------------------------------------------------------------------------------

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
        """Simulated final margin, in share points, of the candidate with the highest median
        final share over the best of the others (meaningful under every rule)."""
        fav = int(np.argmax(np.median(self._final_shares, axis=0)))
        others = np.delete(self._final_shares, fav, axis=1)
        return 100.0 * (self._final_shares[:, fav] - others.max(axis=1))

    # ------------------------------------------------------------ labelled
    @cached_property
    def idata(self) -> Any:
        """ArviZ ``InferenceData``: posterior of the model and the simulated final count.

        Groups: ``posterior`` (type leans ``alpha``, drift ``delta``, scales, ...),
        ``posterior_predictive`` (``final_votes`` by candidate, ``added_votes`` by
        batch type), ``sample_stats`` for NUTS, and ``constant_data`` (the counted
        totals).  Built on first access.
        """
        import arviz as az

        p = self.posterior
        cand = list(self.candidates)
        types = list(self.posterior_types)
        if p.idata is not None:
            chains = int(p.idata.posterior.sizes["chain"])
        else:
            chains = 1
        s = p.n_draws // chains

        def shape(a: np.ndarray) -> np.ndarray:
            return a.reshape((chains, s) + a.shape[1:])

        posterior = {
            "mu": shape(p.mu),
            "alpha": shape(p.alpha),
            "delta": shape(p.delta),
            "sigma_type": shape(p.sigma_type),
            "sigma_batch": shape(p.sigma_batch),
        }
        dims = {
            "mu": ["candidate"],
            "alpha": ["batch_type", "candidate"],
            "delta": ["batch_type", "candidate"],
            "final_votes": ["candidate"],
            "added_votes": ["batch_type"],
            "counted_votes": ["candidate"],
        }
        if p.rho is not None:
            posterior["rho"] = shape(p.rho)
            posterior["rate_sigma_batch"] = shape(p.rate_sigma_batch)
            dims["rho"] = ["batch_type"]
        kwargs: dict[str, Any] = {}
        if p.idata is not None and "sample_stats" in p.idata:
            kwargs["sample_stats"] = {k: v.to_numpy() for k, v in p.idata.sample_stats.data_vars.items()
                                      if v.ndim == 2}
        idata = az.from_dict(
            posterior=posterior,
            posterior_predictive={
                "final_votes": shape(self.final_draws),
                "added_votes": shape(self.added_by_type),
                # contest rules (issue 4): a called race conditions the outputs on these draws
                **({"consistent_with_call": shape(self.rule_result.kept_draws)} if self.rule_result.called else {}),
            },
            constant_data={"counted_votes": self.count.votes[-1]},
            coords={"candidate": cand, "batch_type": types},
            dims=dims,
            attrs={"racecast_version": _version, **{k: json.dumps(v) for k, v in self.settings.items()}},
            **kwargs,
        )
        return idata

    @property
    def posterior_types(self) -> tuple[str, ...]:
        """Batch types the model carried (counted and outstanding)."""
        return tuple(self.settings["batch_types"])

    # ------------------------------------------------------------ reporting
    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary (stable keys; see ``docs/cli.md``)."""
        fs, fv = self.final_share, self.final_votes
        return {
            "racecast_version": _version,
            "count": self.count.name,
            "releases": len(self.count),
            "as_of_release": int(self.count.release_ids[-1]),
            "rule": self.rule.name,
            "called": list(self.rule_result.called),
            "called_probability": _jsonable(self.rule_result.called_probability),
            "interval": self.interval,
            "leader": self.leader,
            "lead_change_probability": self.lead_change_probability,
            "candidates": [
                {
                    "name": c,
                    "votes": int(self.count.totals[c]),
                    "win_probability": float(self.win_probability[c]),
                    "final_share": {k: float(fs.loc[c, k]) for k in ("median", "lower", "upper")},
                    "final_votes": {k: float(fv.loc[c, k]) for k in ("median", "lower", "upper")},
                }
                for c in self.candidates
            ],
            "outcomes": [
                {"event": r.event, "candidate": r.candidate, "probability": float(r.probability)}
                for r in self.outcomes.itertuples()
            ],
            "remaining": [
                {"batch_type": t, **{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}}
                for t, row in self.remaining.to_dict(orient="index").items()
            ],
            "diagnostics": _jsonable(self.diagnostics),
            "settings": _jsonable(self.settings),
            "warnings": list(self.warnings),
        }

    def summary(self) -> str:
        """A readable multi-line summary."""
        fs = self.final_share
        lines = [
            f"racecast forecast of {self.count.name} after release {self.count.release_ids[-1]} "
            f"({len(self.count)} releases, engine {self.settings.get('engine')}, rule {self.rule.name})",
        ]
        rem = ", ".join(f"{t} {r.amount:,.0f} {r.unit}" for t, r in self.remaining.iterrows() if r.amount > 0)
        lines.append(f"outstanding: {rem or 'nothing'}")
        width = max(len(c) for c in self.candidates)
        pct = int(round(self.interval * 100))
        label = getattr(self.rule, "win_label", "P(win)")
        lines.append(
            f"{'candidate':<{width}}  {'votes':>11}  {label:>12}  final share (median, {pct}% interval)"
        )
        for c in self.win_probability.sort_values(ascending=False).index:
            lines.append(
                f"{c:<{width}}  {int(self.count.totals[c]):>11,}  {self.win_probability[c]:>12.3f}  "
                f"{100 * fs.loc[c, 'median']:5.1f}%  [{100 * fs.loc[c, 'lower']:5.1f}%, {100 * fs.loc[c, 'upper']:5.1f}%]"
            )
        lines.extend(self.rule_result.summary_lines())
        lines.append(f"P(current leader {self.leader} does not finish first): {self.lead_change_probability:.3f}")
        return "\n".join(lines)

    def plot(self, **kwargs: Any) -> Any:
        """Final-share intervals per candidate and the simulated final margin.

        See :func:`racecast.plot.plot_forecast` (needs matplotlib); returns the figure.
        """
        from .plot import plot_forecast

        return plot_forecast(self, **kwargs)

    def __repr__(self) -> str:
        wp = self.win_probability.sort_values(ascending=False)
        top = ", ".join(f"{c} {p:.3f}" for c, p in wp.head(3).items())
        return f"<Forecast {self.count.name!r} after release {self.count.release_ids[-1]}: P(win) {top}>"

    def __str__(self) -> str:
        return self.summary()


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return str(obj)


def _resolve_remaining(count: Count, remaining: Mapping[str, float] | None) -> tuple[pd.DataFrame, list[str]]:
    """Outstanding amount by type: latest reported at or before the last release, then overrides."""
    notes: list[str] = []
    rows: dict[str, dict[str, Any]] = {}
    for t, (amount, rel) in count.latest_outstanding().items():
        rows[t] = {"amount": amount, "source": f"reported at release {rel}"}
        later = [
            int(r) for r, bt in zip(count.release_ids, count.release_batch_types) if r > rel and bt == t
        ]
        if later and remaining is not None and t in remaining:
            continue
        if later:
            msg = (
                f"{count.name}: outstanding_{t} was last reported at release {rel}, but {len(later)} "
                f"{t} release(s) came after it ({later[:3]}); the stale estimate is used as reported. "
                f"Pass remaining={{'{t}': ...}} to update it."
            )
            warnings.warn(msg, StaleOutstandingWarning, stacklevel=3)
            notes.append(msg)
    if remaining is not None:
        for t, amount in remaining.items():
            try:
                val = float(amount)
            except (TypeError, ValueError):
                raise ForecastInputError(f"remaining[{t!r}] must be a number, got {amount!r}") from None
            if not np.isfinite(val) or val < 0:
                raise ForecastInputError(f"remaining[{t!r}] must be a finite non-negative number, got {amount!r}")
            rows[str(t)] = {"amount": val, "source": "override"}
    if not rows and remaining is None:
        raise ForecastInputError(
            f"{count.name}: nothing says how many ballots are still to be counted. Add outstanding_<type> "
            "columns to the count file (e.g. outstanding_late_mail), or pass remaining={'late_mail': 331000} "
            "to forecast(); pass remaining={} if the count is complete."
        )
    names = list(rows)
    counted_types = set(count.counted_types)
    table = pd.DataFrame(
        {
            "amount": np.array([rows[t]["amount"] for t in names], dtype=float),
            "unit": [count.outstanding_unit] * len(names),
            "source": [rows[t]["source"] for t in names],
            "counted": np.array([t in counted_types for t in names], dtype=bool),
        },
        index=pd.Index(names, name="batch_type", dtype="str"),
    )
    return table, notes


def forecast(
    count: Count,
    *,
    remaining: Mapping[str, float] | None = None,
    seed: int | np.random.Generator | None = None,
    draws: int = 2000,
    engine: Engine = "nuts",
    rule: str | Rule | None = None,
    seats: int | None = None,
    called: str | Iterable[str] | None = None,
    min_share: float | None = None,
    interval: float = 0.9,
    outstanding_sd: float = DEFAULT_OUTSTANDING_SD,
    priors: Priors | None = None,
    prior: Prior | None = None,
    nuts_cores: int | None = None,
) -> Forecast:
    """Forecast a count that is still being counted.

    Parameters
    ----------
    count
        The count so far (see :func:`racecast.read_count`).
    remaining
        Outstanding amount by batch type, overriding the count's latest
        ``outstanding_<type>`` values; in jurisdiction ballots when the count
        reports ``ballots_counted``, else in contest votes.  ``{}`` with no
        outstanding columns means the count is complete.
    seed
        Seed or ``numpy.random.Generator``; the same seed gives the same answer.
    draws
        Posterior draws, each simulated into one final count.
    engine
        ``"nuts"`` (PyMC model sampled with NUTS) or ``"fast"`` (exact Gaussian
        integration of the same model on a grid of its two scales).
    rule
        Contest rule (default plurality), a :class:`racecast.rules.Rule` or a
        shortcut: ``"plurality"``, ``"majority"``, ``"top_two"``, ``"seats:3"``,
        ``"threshold:2/3"``; see ``docs/rules.md``.
    seats
        Number of seats of a multi-seat contest (top ``seats`` win).
    called
        An outcome called by an authority (a name, or names: see
        ``docs/rules.md``).  It is pinned: every probability, share and vote
        interval is conditional on it.
    min_share
        Pool candidates below this share of the votes counted so far into one
        ``"Other (n candidates)"`` column before modelling (faster for crowded
        contests; called candidates are never pooled).
    interval
        Mass of the reported intervals (default 0.9).
    outstanding_sd
        Relative sd of the outstanding estimates (default 0.15).
    priors
        Prior scales (default :class:`racecast.model.Priors`).
    prior
        What earlier counts say about how batch types lean (see
        :func:`racecast.prior_from`): for the types it covers it replaces the
        zero-mean ``N(0, sigma_type^2)`` hierarchy term of ``alpha_t - mu`` with
        its own mean and sd.  Default: no history.
    nuts_cores
        NUTS chains run in parallel (default: all chains at once; one in
        [`forecast_many`][racecast.forecast_many]'s worker processes, which already fill the cores).

    Returns
    -------
    Forecast

    Raises
    ------
    ForecastInputError
        When nothing says what is outstanding, or an argument is invalid.

    Examples
    --------
    >>> import racecast
    >>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    >>> fc = racecast.forecast(count[:4], seed=0, engine="fast")
    >>> round(float(fc.win_probability.sum()), 6)
    1.0
    """
    if not isinstance(count, Count):
        raise ForecastInputError(f"forecast() needs a racecast.Count, got {type(count).__name__}")
    if engine not in ("nuts", "fast"):
        raise ForecastInputError(f"engine must be 'nuts' or 'fast', got {engine!r}")
    if not isinstance(draws, (int, np.integer)) or draws < 100:
        raise ForecastInputError(f"draws must be an integer >= 100, got {draws!r}")
    if not 0.0 < interval < 1.0:
        raise ForecastInputError(f"interval must be in (0, 1), got {interval!r}")
    if not np.isfinite(outstanding_sd) or outstanding_sd < 0:
        raise ForecastInputError(f"outstanding_sd must be >= 0, got {outstanding_sd!r}")
    _check_forecastable(count, remaining, seed=seed, outstanding_sd=outstanding_sd, priors=priors)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if prior is not None and not isinstance(prior, Prior):
        raise ForecastInputError(f"prior must be a racecast.Prior (see racecast.prior_from), got {type(prior).__name__}")
    # -- contest rules (issue 4): seats, called races, pooling of small candidates --------------
    rule_obj = resolve_rule(rule, seats=seats)
    called_names = () if called is None else ((called,) if isinstance(called, str) else tuple(called))
    pooled: tuple[str, ...] = ()
    if min_share is not None:
        unknown = [c for c in called_names if c not in count.candidates]
        if unknown:
            raise ForecastInputError(f"called={unknown} not among the candidates {list(count.candidates)}")
        pooled = pooling_plan(count, min_share, keep=called_names)
        count = pool_candidates(count, min_share, keep=called_names)
    rule_obj.check(count.candidates, called=called_names)  # fail before fitting, not after
    # -----------------------------------------------------------------------------------------
    rem, notes = _resolve_remaining(count, remaining)
    types = list(count.batch_types)
    for t in rem.index:
        if t not in types:
            types.append(t)
    for t, amount, unit_name, counted in zip(rem.index, rem["amount"], rem["unit"], rem["counted"]):
        if amount > 0 and not counted:
            if prior is not None and t in prior.types:
                source = "the prior from history (prior=) and the contest-wide mean of the other types"
            else:
                source = "the spread of the other types (sigma_type), so the forecast is correspondingly uncertain"
            msg = (
                f"{count.name}: {amount:,.0f} {unit_name} of type {t!r} are outstanding but none has been "
                f"counted yet; its lean comes from {source}"
            )
            warnings.warn(msg, UnseenBatchTypeWarning, stacklevel=2)
            notes.append(msg)
    amounts = {str(t): float(a) for t, a in zip(rem.index, rem["amount"])}
    unit = count.outstanding_unit
    if unit == "ballots":
        last = np.flatnonzero(np.isfinite(count.ballots_counted))[-1]
        ratio = count.votes[last].sum() / max(count.ballots_counted[last], 1.0)
        hint = {t: a * ratio for t, a in amounts.items()}
    else:
        hint = dict(amounts)
    data = build_model_data(count, tuple(types), hint, priors)
    if prior is not None:
        bloc = [c for c in count.candidates if is_pooled(c)]
        members = {bloc[0]: list(pooled)} if pooled and len(bloc) == 1 else None
        p_mean, p_sd = prior.model_arrays(count.candidates, types, members=members)
        data = dataclasses.replace(data, prior_mean=p_mean, prior_sd=p_sd)
    post, sampler_notes = fit_posterior(
        data, engine=engine, draws=int(draws), rng=rng, name=count.name,
        chains=2, tune=500, target_accept=0.9, retry_target_accept=0.99, cores=nuts_cores,
    )
    notes.extend(sampler_notes)
    spec = RemainingSpec(amount=amounts, unit=unit, outstanding_sd=float(outstanding_sd))
    final, added = simulate_final(count.votes[-1], data, post, spec, rng)
    result = rule_obj.evaluate(final, count.candidates, rng, called=called_names or None)
    settings = {
        "engine": post.engine,  # "fast" when a poor NUTS fit fell back (see diagnostics)
        "requested_engine": engine,
        "draws": int(post.n_draws),
        "seed": seed if isinstance(seed, (int, np.integer)) or seed is None else "generator",
        "outstanding_sd": float(outstanding_sd),
        "priors": (priors or Priors()).__dict__,
        "prior": prior.to_dict() if prior is not None else None,
        "batch_types": list(types),
        "racecast_version": _version,
        "rule": rule_obj.name,
        "seats": seats,
        "called": list(called_names),
        "min_share": min_share,
        "pooled": list(pooled),
    }
    fc = Forecast(
        count=count,
        final_draws=final,
        added_by_type=added,
        posterior=post,
        rule=rule_obj,
        rule_result=result,
        remaining=rem,
        interval=float(interval),
        settings=settings,
        warnings=tuple(notes),
    )
    _check_invariants(fc)
    return fc


# ---------------------------------------------------------------------------
# Robustness: inputs the model cannot use, sampler trouble, final invariants.
# ---------------------------------------------------------------------------
#: Largest accepted ``outstanding_sd`` (a relative sd: 10 = 1,000%).
MAX_OUTSTANDING_SD = 10.0


def _check_forecastable(
    count: Count,
    remaining: Mapping[str, float] | None,
    *,
    seed: Any,
    outstanding_sd: float,
    priors: Priors | None,
) -> None:
    """Refuse, with what to do, the inputs the model and simulation cannot use."""
    if not isinstance(seed, np.random.Generator):
        try:
            np.random.default_rng(seed)
        except (TypeError, ValueError) as exc:
            raise ForecastInputError(
                f"seed must be None, a non-negative integer or a numpy Generator, got {seed!r} ({exc})"
            ) from None
    try:
        sd_ok = float(outstanding_sd) <= MAX_OUTSTANDING_SD
    except (TypeError, ValueError):
        sd_ok = False
    if not sd_ok:
        raise ForecastInputError(
            f"outstanding_sd is the relative sd of the outstanding estimates (0.15 = 15%); it must be a number "
            f"at most {MAX_OUTSTANDING_SD:g}, got {outstanding_sd!r}"
        )
    if priors is not None:
        if not isinstance(priors, Priors):
            raise ForecastInputError(f"priors must be a racecast.Priors, got {type(priors).__name__}")
        bad = {
            k: v
            for k, v in vars(priors).items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and not 0 < v < np.inf
        }
        if bad:
            raise ForecastInputError(f"prior scales must be positive and finite, got {bad}")
    if remaining is not None and not isinstance(remaining, Mapping):
        raise ForecastInputError(
            f"remaining must be a mapping {{batch_type: amount}}, e.g. {{'late_mail': 331000}}, "
            f"got {type(remaining).__name__}"
        )
    for t in remaining or {}:
        if not isinstance(t, str) or not _TYPE_RE.match(t):
            guess = _snake(str(t))
            raise ForecastInputError(
                f"remaining: {t!r} is not a batch type; types are snake_case labels"
                + (f" (did you mean {guess!r}?)" if _TYPE_RE.match(guess) else "")
                + f"; the count has {list(count.batch_types)}"
            )
    amounts = {t: a for t, (a, _) in count.latest_outstanding().items()}
    for t, amount in (remaining or {}).items():
        try:
            val = float(amount)
        except (TypeError, ValueError):
            continue  # reported by _resolve_remaining
        if np.isfinite(val) and val > MAX_NUMBER:
            raise ForecastInputError(
                f"remaining[{t!r}] = {amount!r} is implausibly large (more than {MAX_NUMBER:,}); "
                "give the outstanding ballots (or votes) of this contest"
            )
        amounts[str(t)] = val
    if count.has_ballots and any(np.isfinite(a) and a > 0 for a in amounts.values()):
        spans = count.turnout_spans()
        if not ((spans["ballots"] > 0) & (spans["votes"] > 0)).any():
            raise ForecastInputError(
                f"{count.name}: ballots_counted is reported, so outstanding amounts are read as jurisdiction "
                "ballots, but no release adds both ballots and votes, so the contest's share of ballots cannot "
                "be learnt. Check ballots_counted (is it 0?), or remove the column and give outstanding amounts "
                "in contest votes."
            )


def _check_invariants(fc: Forecast) -> None:
    """Assert what every forecast must satisfy; a failure is a bug in racecast, never silently returned."""
    problems = []
    final = fc.final_draws
    wp = fc.win_probability.to_numpy(dtype=float)
    if final.shape != (fc.posterior.n_draws, len(fc.candidates)):
        problems.append(f"final_draws has shape {final.shape}")
    elif not np.issubdtype(final.dtype, np.integer) or (final < fc.count.votes[-1]).any():
        problems.append("simulated final totals are below the votes already counted")
    if not np.isfinite(wp).all() or (wp < 0).any() or (wp > 1).any():
        problems.append(f"win probabilities {wp.tolist()} are not all in [0, 1]")
    else:
        winners = np.asarray(fc.rule_result.winners, dtype=float)
        expected = winners.sum(axis=1).mean() if winners.size else float("nan")
        if not np.isclose(wp.sum(), expected, rtol=0, atol=1e-9):
            problems.append(f"win probabilities sum to {wp.sum()!r}, but the rule's winners per draw average {expected!r}")
        if fc.rule.name == "plurality" and not np.isclose(wp.sum(), 1.0, rtol=0, atol=1e-9):
            problems.append(f"plurality win probabilities sum to {wp.sum()!r}, not 1")
    probs = fc.outcomes["probability"].to_numpy(dtype=float)
    defined = probs[np.isfinite(probs)]
    if (defined < 0).any() or (defined > 1).any():
        problems.append("an outcome probability is outside [0, 1]")
    if np.isnan(probs).any() and not getattr(fc.rule_result, "called", ()):
        problems.append("an outcome probability is NaN")
    if not np.isfinite(fc._final_shares).all():
        problems.append("simulated final shares are not finite")
    if problems:
        raise RacecastError(
            f"{fc.count.name}: internal check failed ({'; '.join(problems)}). This is a bug in racecast: "
            "please report it with the count file and the forecast() arguments."
        )
