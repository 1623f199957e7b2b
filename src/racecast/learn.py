"""Learn the simulation's hyper-parameters from completed counts (empirical Bayes).

[`learn_priors`][racecast.learn_priors] replays every release of every completed count
it is given and chooses the hyper-parameters of what the model does *not* learn from
the count itself -- the remainder shift, the revisions of counted votes, the error of
the outstanding estimates and the spread of a type not counted yet -- by maximising
the predictive log score of what happened.

What is scored
--------------
At each release the forecast's simulated final totals give a predictive distribution
of the final *margin* ``(v_a - v_b) / (total votes)`` between the two candidates who
finished first and second.  The margin is what decides a contest, and one scalar per
release weighs contests of any number of candidates alike.  Its log density at the
true margin is estimated from the draws with a Gaussian kernel (Silverman's
bandwidth, at least [`MIN_BANDWIDTH`][racecast.learn.MIN_BANDWIDTH]) mixed with a
uniform on ``[-1, 1]`` of weight [`GUARD`][racecast.learn.GUARD], so that one release
whose forecast was a point cannot dominate the mean (each release scores at least
``log(GUARD / 2)``, about -7.6).  The mean is over counts, each count's releases
averaged first, so that a long feed weighs as much as one contest and no more.

How it is searched
------------------
Only the simulation depends on these hyper-parameters (they change what is still to
count and how counted votes are revised, never the posterior of the counted
batches), so each release is fitted once (fast engine) and only simulated again for
each candidate value, with the same random numbers (common random numbers make the
comparison between values far less noisy than their Monte Carlo error).  The search
is coordinate-wise over a grid per hyper-parameter ([`GRID`][racecast.learn.GRID]),
twice over.  A grid cannot overfit much (a handful of values per parameter), but a
prior learned from a contest and then scored on it is still a leak: validate by
leaving elections out (``benchmarks/learn_priors.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .count import Count
from .errors import ForecastInputError
from .model import Priors
from .release_fits import MODEL_SCALES, ReleaseFit, fit_releases, fitted_scales, with_terms_of
from .settings import DEFAULT_OUTSTANDING_SD
from .simulate import simulate_final

__all__ = [
    "GRID",
    "GUARD",
    "MIN_BANDWIDTH",
    "LearnedPriors",
    "learn_priors",
    "mean_log_score",
    "score_releases",
]

GUARD = 1e-3
"""Weight of the uniform guard in each release's predictive density of the margin."""
MIN_BANDWIDTH = 1e-4
"""Smallest kernel bandwidth, in margin units (0.0001 = 0.01 points)."""
GRID: dict[str, tuple[float | None, ...]] = {
    "remainder_sd": (None, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3),
    "untyped_remainder_sd": (None, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6),
    "revision_rel": (None, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2),
    "revision_abs": (None, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0),
    "outstanding_sd": (0.15, 0.2, 0.3, 0.45, 0.7, 1.0),
    "outstanding_df": (None, 8.0, 4.0, 3.0),
    "unseen_type_floor": (None, 0.1, 0.2, 0.3, 0.45, 0.6),
    "unseen_type_df": (None, 8.0, 4.0, 3.0),
    "wander_sd": (None, 0.05, 0.1, 0.2, 0.3, 0.5),
}
"""Values tried for each hyper-parameter (``None``/0 turns a term off); ``outstanding_sd``
is the relative sd of outstanding estimates ([`forecast`][racecast.forecast]'s argument).

``outstanding_sd`` is not searched below the hand-set 0.15: a library's outstanding figures were
compiled after the fact, so they look more accurate than an estimate published on the night."""


def _simulate(fit: ReleaseFit, priors: Priors, outstanding_sd: float) -> np.ndarray:
    """``(S, K)`` simulated final totals of one release with the simulation terms of ``priors``.

    The model's own scales stay those the release was fitted with: a posterior drawn
    under one ``type_sd`` is never simulated as if it had been drawn under another.
    """
    data = dataclasses.replace(fit.data, priors=with_terms_of(fit.data.priors, priors))
    spec = dataclasses.replace(fit.spec, outstanding_sd=outstanding_sd)
    final, _ = simulate_final(fit.counted, data, fit.post, spec, np.random.default_rng(fit.seed))
    return final


def _log_density(draws: np.ndarray, y: float) -> float:
    """Guarded Gaussian-kernel log density of ``draws`` at ``y`` (see the module docstring)."""
    sd = float(draws.std())
    h = max(1.06 * sd * draws.size ** (-0.2), MIN_BANDWIDTH)
    kde = float(np.mean(np.exp(-0.5 * ((draws - y) / h) ** 2))) / (h * np.sqrt(2 * np.pi))
    return float(np.log((1 - GUARD) * kde + GUARD / 2))


def score_releases(
    fits: Sequence[ReleaseFit], priors: Priors, outstanding_sd: float = DEFAULT_OUTSTANDING_SD
) -> pd.DataFrame:
    """Each release's log score, 90% interval coverage and win probability under ``priors``.

    Returns
    -------
    pandas.DataFrame
        One row per release: ``name``, ``count``, ``outstanding_share``, ``log_score`` (of the
        true final margin), ``covered`` (the central 90% interval of the margin holds
        it), ``p_winner`` (probability the eventual winner finishes first),
        ``confident_wrong`` (a loser was given >= 0.95) and ``brier`` (two-way, of
        first vs second: ``2 (1 - p_winner)^2``).
    """
    rows = []
    for fit in fits:
        final = _simulate(fit, priors, outstanding_sd)
        a, b = fit.pair
        total = np.maximum(final.sum(axis=1), 1)
        margin = (final[:, a] - final[:, b]) / total
        y = fit.margin
        lo, hi = np.quantile(margin, [0.05, 0.95])
        top = np.argmax(final, axis=1)
        p_win = float(np.mean(top == a))
        p_max = float(np.max(np.bincount(top, minlength=final.shape[1]))) / final.shape[0]
        rows.append(
            {
                "name": fit.name,
                "count": fit.count_name,
                "outstanding_share": fit.outstanding_share,
                "log_score": _log_density(margin, y),
                "covered": bool(lo <= y <= hi),
                "p_winner": p_win,
                "confident_wrong": bool(p_max >= 0.95 and p_win < 0.95),
                "brier": 2.0 * (1.0 - p_win) ** 2,
            }
        )
    return pd.DataFrame(rows)


def mean_log_score(scores: pd.DataFrame, groups: Mapping[str, str] | None = None) -> float:
    """Mean log score with every count weighing the same (the mean of each count's mean over its releases).

    With ``groups`` (count name -> group, e.g. its election), every group weighs the
    same and every count within it: a ballot of 60 contests then teaches as much as
    one state's feed, not 60 times as much.  Counts not in ``groups`` are their own group.
    """
    per_count = scores.groupby("count", sort=False)["log_score"].mean()
    if not groups:
        return float(per_count.mean())
    label = pd.Series([groups.get(str(c), str(c)) for c in per_count.index], index=per_count.index)
    return float(per_count.groupby(label, sort=False).mean().mean())


@dataclass(frozen=True)
class LearnedPriors:
    """What [`learn_priors`][racecast.learn_priors] found.

    Attributes
    ----------
    priors : Priors
        The model's prior scales (those the releases were fitted with) and the learned
        simulation hyper-parameters.
    outstanding_sd : float
        The learned relative sd of outstanding estimates (pass it to
        [`forecast`][racecast.forecast]).
    log_score, start_log_score : float
        Mean log score ([`mean_log_score`][racecast.learn.mean_log_score]) at the learned and at
        the starting values.
    n_releases : int
        Releases scored.
    path : pandas.DataFrame
        Every value tried: ``parameter``, ``value``, ``log_score``.
    """

    priors: Priors
    outstanding_sd: float
    log_score: float
    start_log_score: float
    n_releases: int
    path: pd.DataFrame

    def to_dict(self) -> dict[str, object]:
        """The learned values and scores as plain JSON-able values."""
        learned = {k: getattr(self.priors, k) for k in GRID if k != "outstanding_sd"}
        return {
            **{k: getattr(self.priors, k) for k in MODEL_SCALES},
            **learned,
            "outstanding_sd": self.outstanding_sd,
            "log_score": self.log_score,
            "start_log_score": self.start_log_score,
            "n_releases": self.n_releases,
        }


def learn_priors(
    counts: Sequence[Count] | Sequence[ReleaseFit],
    finals: Mapping[str, Sequence[float]] | Sequence[Sequence[float]] | None = None,
    *,
    priors: Priors | None = None,
    outstanding_sd: float = DEFAULT_OUTSTANDING_SD,
    grid: Mapping[str, Sequence[float | None]] | None = None,
    passes: int = 2,
    draws: int = 400,
    seed: int = 0,
    groups: Mapping[str, str] | None = None,
) -> LearnedPriors:
    """Learn the simulation's hyper-parameters from completed counts.

    Parameters
    ----------
    counts
        Completed counts (their last release is the final result unless ``finals``
        says otherwise), or releases already fitted by
        [`fit_releases`][racecast.release_fits.fit_releases] (to reuse fits across calls).
    finals
        The final totals of each count (by name, or in order), when the last
        release is not final.
    priors, outstanding_sd
        Starting values of the simulation terms (default: [`Priors`][racecast.Priors] and
        0.15).  The model's own prior scales (``type_sd``, ``batch_sd``, ...) are those the
        releases are fitted with: ``priors``' when counts are given, the fits' own when
        fitted releases are (learn them with
        [`learn_scales`][racecast.learned_scales.learn_scales]).
    grid
        Values to try per hyper-parameter (default [`GRID`][racecast.learn.GRID]);
        parameters left out keep their starting values.
    passes
        Coordinate-wise passes over the grid.
    draws, seed
        Posterior draws per release and the seed of the fits and simulations.
    groups
        Count name -> group (e.g. the election it belongs to): each group weighs the
        same in the score, and each count within its group
        ([`mean_log_score`][racecast.learn.mean_log_score]).  Default: each count weighs the same.

    Returns
    -------
    LearnedPriors

    Examples
    --------
    >>> import racecast
    >>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    >>> learned = racecast.learn_priors([count], grid={"remainder_sd": (None, 0.1)}, passes=1)
    >>> learned.n_releases
    13
    """
    given = list(counts)
    fits: list[ReleaseFit] = [f for f in given if isinstance(f, ReleaseFit)]
    if not fits:
        counted = [c for c in given if isinstance(c, Count)]
        fits = fit_releases(counted, finals, priors=priors, draws=draws, seed=seed)
    if not fits:
        raise ForecastInputError("learn_priors: no release of the counts given could be forecast")
    base = with_terms_of(fitted_scales(fits), priors or Priors())
    grid = dict(GRID if grid is None else grid)
    current: dict[str, float | None] = {k: getattr(base, k) for k in GRID if k != "outstanding_sd"}
    current["outstanding_sd"] = outstanding_sd

    def with_values(values: Mapping[str, float | None]) -> Priors:
        changes: dict[str, Any] = {k: (v or None) for k, v in values.items() if k != "outstanding_sd"}
        return dataclasses.replace(base, **changes)

    def mean_score(values: Mapping[str, float | None]) -> float:
        scores = score_releases(fits, with_values(values), float(values["outstanding_sd"] or 0.0))
        return mean_log_score(scores, groups)

    start = best = mean_score(current)
    path = []
    for _ in range(passes):
        for name, values in grid.items():
            for value in values:
                trial = {**current, name: value}
                got = mean_score(trial)
                path.append({"parameter": name, "value": value, "log_score": got})
                if got > best + 1e-9:
                    best, current = got, trial
    return LearnedPriors(
        with_values(current),
        float(current["outstanding_sd"] or 0.0),
        best,
        start,
        len(fits),
        pd.DataFrame(path),
    )
