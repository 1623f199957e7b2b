"""Naive forecasters to hold racecast's record against.

Each baseline looks at a [`Count`][racecast.Count] as it stands and returns a
[`BaselineForecast`][racecast.evaluation.baselines.BaselineForecast] with the same
shape as a racecast forecast: a win probability per candidate and a final-share
(and final-vote) median, lower and upper bound.  They are replayed and scored by
the same functions ([`replay`][racecast.replay], [`racecast.scoring`][racecast.evaluation.scoring]).

The baselines
-------------
``leader_wins``
    The candidate ahead now wins (probability 1; split equally on an exact tie).
    Its final shares are those of ``counted_split`` below: this baseline is about
    the call, not the shares.
``counted_split``
    The remaining votes split like all votes counted so far.
``last_release_split``
    The remaining votes split like the last batch: the votes added by the last
    release (a correction is merged with the release before it, and releases
    that added nothing are skipped, as in [`Count.batches`][racecast.Count.batches]).

The plain binomial interval
---------------------------
All three treat the ``R`` remaining votes as ``R`` independent draws in which
each vote goes to candidate ``c`` with the assumed split ``p_c``.  Candidate
``c``'s remaining votes are then ``Binomial(R, p_c)`` (the margin of a
multinomial), and the final share is

    ``(V_c + X_c) / (N + R)``,  ``X_c ~ Binomial(R, p_c)``,

where ``V_c`` are ``c``'s counted votes and ``N`` all candidates' counted votes.
The interval runs between the ``(1 - interval) / 2`` and ``(1 + interval) / 2``
quantiles of ``X_c`` (exact binomial quantiles); the median uses the 0.5
quantile.  The win probability is exact for two candidates (a binomial tail,
exact ties counted as a coin flip) and a Monte Carlo estimate from ``draws``
multinomial draws for more.

This interval is far too narrow, on purpose: it is what one gets by pretending
the only uncertainty is the coin-flipping of individual voters around a *known*
split.  Its width is about ``3.3 sqrt(R p (1 - p)) / (N + R)``, under 0.1 share
point even with a million votes to go.  Real remaining votes differ
*systematically* from the counted ones (late mail, election-day and provisional
ballots lean differently), arrive in correlated batches (whole counties or
precincts at once), and their number is itself an estimate.  None of that is
in the binomial interval, which is exactly what racecast's model adds.

Remaining votes
---------------
The remaining votes are the sum over batch types of each type's latest reported
outstanding estimate ([`Count.latest_outstanding`][racecast.Count.latest_outstanding], used as reported),
overridden type by type by ``remaining=`` exactly as in [`forecast`][racecast.forecast].
When the count reports ``ballots_counted``, outstanding figures are
jurisdiction *ballots*, not votes in this contest; they are converted with
the ratio of contest votes to jurisdiction ballots counted so far, taken at the
latest release that reports ``ballots_counted`` (for the LA mayor, about 0.38:
the county counts many contests at once).  That assumes the remaining ballots
carry this contest at the same rate as the counted ones.

Examples
--------
>>> import racecast
>>> from racecast import baselines
>>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
>>> fc = baselines.counted_split(count[:4])
>>> fc.win_probability.round(3).to_dict()
{'Karen Bass': 0.0, 'Rick Caruso': 1.0}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TypeAlias

import numpy as np
import pandas as pd

from ..count import Count
from ..errors import ForecastInputError
from ..outstanding import resolve_outstanding
from ..rules import Plurality

__all__ = [
    "BASELINES",
    "BaselineForecast",
    "counted_split",
    "last_release_split",
    "leader_wins",
    "remaining_votes",
]

_Amounts: TypeAlias = Mapping[str, float] | None
_Seed: TypeAlias = int | np.random.Generator | None


@dataclass(frozen=True)
class BaselineForecast:
    """What a baseline forecaster says about a count.

    Attributes
    ----------
    method : str
        The baseline's name (a key of ``BASELINES``).
    win_probability : pandas.Series
        P(win) per candidate (sums to 1).
    final_share : pandas.DataFrame
        Index candidate, columns ``median``, ``lower``, ``upper``: final share of
        the candidates' votes, with the plain binomial interval.
    final_votes : pandas.DataFrame
        Same layout, in votes.
    split : pandas.Series
        The assumed split of the remaining votes (sums to 1).
    remaining_votes : int
        The remaining votes assumed, in this contest's votes (rounded).
    interval : float
        Probability mass of the interval, e.g. 0.9.
    """

    method: str
    win_probability: pd.Series
    final_share: pd.DataFrame
    final_votes: pd.DataFrame
    split: pd.Series
    remaining_votes: int
    interval: float


def remaining_votes(count: Count, remaining: _Amounts = None) -> float:
    """Votes in this contest still to be counted, from the count's outstanding estimates.

    The outstanding amount of each type is its latest reported estimate
    ([`Count.latest_outstanding`][racecast.Count.latest_outstanding]), replaced by ``remaining[type]`` where
    given -- the same rule as [`forecast`][racecast.forecast].  The amounts are summed
    and, when the count reports ``ballots_counted``, converted from jurisdiction
    ballots to contest votes with the counted ratio (see the module docstring).

    Parameters
    ----------
    count
        The count as it stands.
    remaining
        Outstanding amount by batch type, in the count's unit
        ([`Count.outstanding_unit`][racecast.Count.outstanding_unit]), as in [`forecast`][racecast.forecast];
        ``{}`` with no outstanding columns means the count is complete.

    Raises
    ------
    ForecastInputError
        When nothing says what is outstanding (pass ``remaining=``), or an amount
        is not a finite non-negative number.

    Examples
    --------
    >>> import racecast
    >>> from racecast.evaluation.baselines import remaining_votes
    >>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    >>> round(remaining_votes(count[:3]))     # 1,006,300 ballots x 492,670 / 1,318,093
    376130
    """
    return resolve_outstanding(count, remaining).total_votes


def _resolve_remaining(count: Count, remaining: _Amounts) -> int:
    return round(remaining_votes(count, remaining))


def _check_interval(interval: float) -> None:
    if not 0 < interval < 1:
        raise ForecastInputError(f"interval must be in (0, 1), got {interval}")


def _binomial_forecast(
    method: str,
    split_of: Callable[[Count], np.ndarray],
    count: Count,
    remaining: _Amounts,
    interval: float,
    seed: _Seed,
    draws: int,
) -> BaselineForecast:
    """The forecast of a baseline that splits the remaining votes ``split_of(count)`` (module docstring)."""
    from scipy import stats  # here, not at import: scipy.stats costs a second of `import racecast`

    split = split_of(count)
    _check_interval(interval)
    r = _resolve_remaining(count, remaining)
    v = count.votes[-1].astype(np.int64)
    n = float(v.sum()) + r
    if n <= 0:
        raise ForecastInputError(f"{count.name}: no votes counted and none remaining")
    idx = pd.Index(count.candidates, name="candidate")
    a = (1.0 - interval) / 2.0
    q = np.stack([stats.binom.ppf(x, r, split) for x in (0.5, a, 1.0 - a)], axis=1)
    votes = v[:, None] + q
    cols = pd.Index(["median", "lower", "upper"])
    final_votes = pd.DataFrame(votes, index=idx, columns=cols)
    final_share = final_votes / n
    p = _win_probability(v, split, r, seed=seed, draws=draws, candidates=count.candidates)
    return BaselineForecast(
        method=method,
        win_probability=pd.Series(p, index=idx, name="win_probability"),
        final_share=final_share,
        final_votes=final_votes,
        split=pd.Series(split, index=idx, name="split"),
        remaining_votes=r,
        interval=interval,
    )


def _win_probability(
    v: np.ndarray,
    split: np.ndarray,
    r: int,
    *,
    seed: _Seed,
    draws: int,
    candidates: tuple[str, ...],
) -> np.ndarray:
    if len(v) == 2:
        from scipy import stats

        p = np.empty(2)
        for a, b in ((0, 1), (1, 0)):
            s = split[a] + split[b]
            qa = split[a] / s if s > 0 else 0.5
            # a wins iff v_a + X > v_b + (r - X), X ~ Binomial(r, qa): X > t, t = (v_b + r - v_a) / 2
            t = (v[b] + r - v[a]) / 2.0
            win = stats.binom.sf(np.floor(t), r, qa)
            tie = stats.binom.pmf(t, r, qa) if float(t).is_integer() else 0.0
            p[a] = win + 0.5 * tie
        return p
    rng = np.random.default_rng(seed)
    final = v[None, :] + rng.multinomial(r, split, size=draws)
    return Plurality().evaluate(final, candidates, rng).win_probability.to_numpy()


def _split_counted(count: Count) -> np.ndarray:
    v = count.votes[-1].astype(float)
    if v.sum() <= 0:
        raise ForecastInputError(
            f"{count.name}: no votes counted yet; nothing to split the remaining votes like"
        )
    return v / v.sum()


def _split_last_batch(count: Count) -> np.ndarray:
    batches = count.batches()
    if batches.empty:
        raise ForecastInputError(f"{count.name}: no release has added votes yet; there is no last batch")
    last = batches.iloc[-1][list(count.candidates)].to_numpy(dtype=float)
    return last / last.sum()


def counted_split(
    count: Count, *, remaining: _Amounts = None, interval: float = 0.9, seed: _Seed = None, draws: int = 2000
) -> BaselineForecast:
    """Baseline: the remaining votes split like all votes counted so far.

    Parameters
    ----------
    count
        The count as it stands.
    remaining
        Outstanding amount by batch type overriding the count's estimates, as in
        [`forecast`][racecast.forecast] (see
        [`remaining_votes`][racecast.evaluation.baselines.remaining_votes]).
    interval
        Mass of the plain binomial interval (see the module docstring).
    seed, draws
        Only used with more than two candidates (Monte Carlo win probability).

    Returns
    -------
    BaselineForecast

    Examples
    --------
    >>> import pandas as pd, racecast
    >>> from racecast.evaluation.baselines import counted_split
    >>> tidy = pd.DataFrame({"release": [1, 1], "batch_type": ["mixed"] * 2,
    ...                      "candidate": ["A", "B"], "votes": [60, 40]})
    >>> fc = counted_split(racecast.Count.from_frame(tidy), remaining={"mixed": 100})
    >>> fc.final_share.loc["A", "median"]       # (60 + 60) / 200
    np.float64(0.6)
    """
    return _binomial_forecast("counted_split", _split_counted, count, remaining, interval, seed, draws)


def last_release_split(
    count: Count, *, remaining: _Amounts = None, interval: float = 0.9, seed: _Seed = None, draws: int = 2000
) -> BaselineForecast:
    """Baseline: the remaining votes split like the last batch counted.

    The last batch is the last row of [`Count.batches`][racecast.Count.batches]: the votes added by
    the last release that added any, with corrections merged into the release
    before them.

    Parameters
    ----------
    count, remaining, interval, seed, draws
        As in [`counted_split`][racecast.evaluation.baselines.counted_split].

    Returns
    -------
    BaselineForecast
        Its ``split`` is the last batch's split of the votes.

    Examples
    --------
    >>> import pandas as pd, racecast
    >>> from racecast.evaluation.baselines import last_release_split
    >>> tidy = pd.DataFrame({"release": [1, 1, 2, 2], "batch_type": ["mixed"] * 4,
    ...                      "candidate": ["A", "B"] * 2, "votes": [60, 40, 70, 70]})
    >>> last_release_split(racecast.Count.from_frame(tidy), remaining={"mixed": 100}).split.to_dict()
    {'A': 0.25, 'B': 0.75}
    """
    return _binomial_forecast(
        "last_release_split", _split_last_batch, count, remaining, interval, seed, draws
    )


def leader_wins(
    count: Count, *, remaining: _Amounts = None, interval: float = 0.9, seed: _Seed = None, draws: int = 2000
) -> BaselineForecast:
    """Baseline: whoever leads now wins, with certainty.

    The win probability is 1 for the current leader (split equally between
    candidates tied for the lead).  The final shares and their interval are
    those of [`counted_split`][racecast.evaluation.baselines.counted_split].

    Parameters
    ----------
    count, remaining, interval, seed, draws
        Passed to [`counted_split`][racecast.evaluation.baselines.counted_split]; ``seed`` and ``draws``
        do not change the win probability here.

    Returns
    -------
    BaselineForecast

    Examples
    --------
    >>> import racecast
    >>> from racecast.evaluation.baselines import leader_wins
    >>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    >>> leader_wins(count[:6]).win_probability.to_dict()
    {'Karen Bass': 1.0, 'Rick Caruso': 0.0}
    """
    base = counted_split(count, remaining=remaining, interval=interval, seed=seed, draws=draws)
    v = count.votes[-1]
    top = v == v.max()
    p = pd.Series((top / top.sum()).astype(float), index=base.win_probability.index, name="win_probability")
    return replace(base, method="leader_wins", win_probability=p)


BASELINES: dict[str, Callable[..., BaselineForecast]] = {
    "leader_wins": leader_wins,
    "counted_split": counted_split,
    "last_release_split": last_release_split,
}
"""The baselines by name, in the order reports list them."""
