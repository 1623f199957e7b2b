"""[`forecast`][racecast.forecast]: a count still being counted in, a [`Forecast`][racecast.Forecast] out.

The steps, in the order data flows through them:

1. **settings** -- every option validated once ([`ForecastSettings`][racecast.settings.ForecastSettings]);
2. **outstanding** -- what is left to count, by type ([`racecast.outstanding`][]), and the
   warnings about estimates that are stale or types not counted yet;
3. **model data** -- the count, small candidates pooled when asked, the prior from history;
4. **fit** -- the posterior of the batch-type model by the chosen engine ([`racecast.model`][]);
5. **simulate** -- the outstanding ballots counted batch by batch ([`racecast.simulate`][]);
6. **decide** -- the contest rule turns simulated final totals into probabilities ([`racecast.rules`][]);
7. **result** -- the [`Forecast`][racecast.Forecast], its invariants checked, its provenance recorded.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .count import Count
from .errors import ForecastInputError, StaleOutstandingWarning, UnseenBatchTypeWarning
from .model import ModelData, Posterior, Priors, build_model_data, fit_posterior
from .outstanding import Outstanding, check_remaining, resolve_outstanding
from .pooling import is_pooled, pool_candidates, pooling_plan
from .prior import Prior
from .provenance import count_fingerprint, versions
from .result import Forecast, check_invariants
from .rules import Rule
from .settings import (
    DEFAULT_DRAWS,
    DEFAULT_ENGINE,
    DEFAULT_INTERVAL,
    DEFAULT_OUTSTANDING_SD,
    Engine,
    ForecastSettings,
    NutsSettings,
)
from .simulate import RemainingSpec, simulate_final

__all__ = ["forecast"]


def forecast(
    count: Count,
    *,
    remaining: Mapping[str, float] | None = None,
    seed: int | np.random.Generator | None = None,
    draws: int = DEFAULT_DRAWS,
    engine: Engine = DEFAULT_ENGINE,
    rule: str | Rule | None = None,
    seats: int | None = None,
    called: str | Iterable[str] | None = None,
    min_share: float | None = None,
    interval: float = DEFAULT_INTERVAL,
    outstanding_sd: float = DEFAULT_OUTSTANDING_SD,
    priors: Priors | None = None,
    prior: Prior | None = None,
    nuts: NutsSettings | Mapping[str, Any] | None = None,
) -> Forecast:
    """Forecast a count that is still being counted.

    Parameters
    ----------
    count
        The count so far (see [`read_count`][racecast.read_count]).
    remaining
        Outstanding amount by batch type, overriding the count's latest
        ``outstanding_<type>`` values; in jurisdiction ballots when the count
        reports ``ballots_counted``, else in contest votes.  ``{}`` with no
        outstanding columns means the count is complete.
    seed
        Seed or ``numpy.random.Generator``; the same seed gives the same answer.
        ``Forecast.settings["seed"]`` is always the integer the forecast ran on
        (drawn from the generator, or fresh, when no integer is given), so passing
        it back reproduces the forecast.
    draws
        Posterior draws, each simulated into one final count.
    engine
        ``"fast"`` (default: exact Gaussian integration of the model on a grid of
        its scales) or ``"nuts"`` (the same model sampled with NUTS); see
        [`racecast.settings`][] for why.
    rule
        Contest rule (default plurality), a [`Rule`][racecast.rules.Rule] or a
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
        Prior scales (default [`Priors`][racecast.Priors]).
    prior
        What earlier counts say about how batch types lean (see
        [`prior_from`][racecast.prior_from]): for the types it covers it replaces the
        zero-mean ``N(0, sigma_type^2)`` hierarchy term of ``alpha_t - mu`` with
        its own mean and sd.  Default: no history.
    nuts
        NUTS settings (chains, tune, target_accept, retry_target_accept, cores) as a
        [`NutsSettings`][racecast.settings.NutsSettings] or a mapping; used with
        ``engine="nuts"``.

    Returns
    -------
    Forecast

    Raises
    ------
    ForecastInputError
        When nothing says what is outstanding, or an argument is invalid.
    InternalError
        When the forecast fails one of its own checks (a bug in racecast).

    Examples
    --------
    >>> import racecast
    >>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    >>> fc = racecast.forecast(count[:4], seed=0)
    >>> round(float(fc.win_probability.sum()), 6)
    1.0
    """
    if not isinstance(count, Count):
        raise ForecastInputError(f"forecast() needs a racecast.Count, got {type(count).__name__}")
    opts = ForecastSettings.validate(
        engine=engine, draws=draws, seed=seed, interval=interval, outstanding_sd=outstanding_sd,
        priors=priors, prior=prior, rule=rule, seats=seats, called=called, min_share=min_share, nuts=nuts,
    )  # fmt: skip
    check_remaining(count, remaining)
    count, pooled = _pool(count, opts)
    out = resolve_outstanding(count, remaining, outstanding_sd=opts.outstanding_sd)
    notes = _announce(count, out, opts.prior)
    types = out.model_types(count)
    data = _model_data(count, types, out, opts, pooled)
    rng = np.random.default_rng(opts.seed)
    post, sampler_notes = _fit(data, opts, rng, count.name)
    spec = RemainingSpec.of(out, count.outstanding_unit, opts.outstanding_sd)
    final, added = simulate_final(count.votes[-1], data, post, spec, rng)
    result = opts.rule.evaluate(final, count.candidates, rng, called=opts.called or None)
    fc = Forecast(
        count=count,
        final_draws=final,
        added_by_type=added,
        posterior=post,
        rule=opts.rule,
        rule_result=result,
        remaining=out.table,
        interval=opts.interval,
        settings=_record(opts, post, types, pooled, count),
        warnings=(*notes, *sampler_notes),
    )
    check_invariants(fc)
    return fc


def _pool(count: Count, opts: ForecastSettings) -> tuple[Count, tuple[str, ...]]:
    """Pool small candidates when ``min_share`` asks; check the rule can be applied (before fitting)."""
    pooled: tuple[str, ...] = ()
    if opts.min_share is not None:
        unknown = [c for c in opts.called if c not in count.candidates]
        if unknown:
            raise ForecastInputError(f"called={unknown} not among the candidates {list(count.candidates)}")
        pooled = pooling_plan(count, opts.min_share, keep=opts.called)
        count = pool_candidates(count, opts.min_share, keep=opts.called)
    opts.rule.check(count.candidates, called=opts.called)
    return count, pooled


def _announce(count: Count, out: Outstanding, prior: Prior | None) -> list[str]:
    """Warn about stale outstanding estimates and outstanding types not counted yet; return the messages."""
    notes = list(out.stale)
    for msg in out.stale:
        warnings.warn(msg, StaleOutstandingWarning, stacklevel=3)
    table = out.table
    rows = zip(table.index, table["amount"], table["unit"], table["counted"], strict=True)
    for t, amount, unit, counted in rows:
        if amount > 0 and not counted:
            if prior is not None and t in prior.types:
                source = "the prior from history (prior=) and the contest-wide mean of the other types"
            else:
                source = (
                    "the spread of the other types (sigma_type), so the forecast is correspondingly uncertain"
                )
            msg = (
                f"{count.name}: {amount:,.0f} {unit} of type {t!r} are outstanding but none has been "
                f"counted yet; its lean comes from {source}"
            )
            warnings.warn(msg, UnseenBatchTypeWarning, stacklevel=3)
            notes.append(msg)
    return notes


def _model_data(
    count: Count, types: tuple[str, ...], out: Outstanding, opts: ForecastSettings, pooled: tuple[str, ...]
) -> ModelData:
    """The model's data, with the prior from history's arrays when one is given."""
    data = build_model_data(count, types, out.votes, opts.priors)
    if opts.prior is None:
        return data
    bloc = [c for c in count.candidates if is_pooled(c)]
    members = {bloc[0]: list(pooled)} if pooled and len(bloc) == 1 else None
    p_mean, p_sd = opts.prior.model_arrays(count.candidates, list(types), members=members)
    return dataclasses.replace(data, prior_mean=p_mean, prior_sd=p_sd)


def _fit(
    data: ModelData, opts: ForecastSettings, rng: np.random.Generator, name: str
) -> tuple[Posterior, list[str]]:
    n = opts.nuts
    return fit_posterior(
        data, engine=opts.engine, draws=opts.draws, rng=rng, name=name, chains=n.chains, tune=n.tune,
        target_accept=n.target_accept, retry_target_accept=n.retry_target_accept, cores=n.cores,
    )  # fmt: skip


def _record(
    opts: ForecastSettings, post: Posterior, types: tuple[str, ...], pooled: tuple[str, ...], count: Count
) -> dict[str, Any]:
    """The forecast's provenance: how it was made, with what, from which count."""
    lib = versions()
    return {
        "engine": post.engine,  # "fast" when a poor NUTS fit fell back (see diagnostics)
        **opts.record(),
        "draws": int(post.n_draws),
        "batch_types": list(types),
        "pooled": list(pooled),
        "racecast_version": lib["racecast"],
        "versions": dict(lib),
        "count_fingerprint": count_fingerprint(count),
    }
