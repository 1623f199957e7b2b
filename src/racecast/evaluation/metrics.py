"""Scores of forecasts against what happened: Brier, log loss, coverage, time to call.

Every function here is a pure function of plain tables: a forecast sequence is a
``pandas.DataFrame`` with one row per forecast (e.g. one per release of a
replayed count) and one column per candidate; the truth is the eventual winner
(a column label) or the final vote shares (a ``pandas.Series`` by
candidate).  A 2-D ``numpy.ndarray`` works too; its columns are then named
``0..K-1`` and the winner is given by position.  The same functions score
racecast's forecasts and the baselines of [`racecast.evaluation.baselines`][].
They are importable from [`racecast.scoring`][racecast.evaluation.scoring], which adds
[`score_forecasts`][racecast.evaluation.scoring.score_forecasts] (all of them at once).

Definitions (hand-computable; the tests check them by hand)
-----------------------------------------------------------
Brier score
    For one forecast with win probabilities ``p_c`` and winner ``w``,
    ``sum_c (p_c - 1[c = w])^2`` (the original multi-category definition of
    Brier, 1950).  It lies in ``[0, 2]``: 0 for certainty on the winner, 2 for
    certainty on a loser.  With two candidates it is *twice* the familiar binary
    Brier score ``(p_w - 1)^2``, because both candidates' errors are counted.
    [`brier_score`][racecast.evaluation.metrics.brier_score] averages it over forecasts.
Log loss
    ``-ln max(p_w, clip)``, averaged over forecasts, in nats.
    The probability of the winner is clipped from below at ``clip``
    (default ``1e-3``): a Monte Carlo probability from a
    few thousand draws cannot resolve values below about ``1/draws``, so an
    estimate of exactly 0 means "below roughly 0.001", and an unclipped 0 would
    give an infinite loss that swamps every other forecast.  With the default a
    single certain-and-wrong forecast costs ``ln 1000``, about 6.9 nats.
    Nothing else is clipped or renormalised.
Coverage and width
    The fraction of (forecast, candidate) intervals ``[lower, upper]`` that
    contain the final share (bounds included), and the mean of
    ``upper - lower`` in share points (0-1 scale).
Time to call
    The first forecast from which the eventual winner's probability *stays* at
    or above a threshold through the last forecast scored; ``None`` when the
    last forecast is below it.  A call that is later withdrawn does not count.
Confident wrong calls
    Forecasts in which some candidate who did *not* win had a probability at or
    above a threshold (0.95 by default).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from ..errors import ForecastInputError

__all__ = [
    "LOG_LOSS_CLIP",
    "brier_score",
    "confident_wrong_calls",
    "final_shares",
    "interval_coverage",
    "interval_width",
    "log_loss",
    "time_to_call",
    "winner_of",
]

LOG_LOSS_CLIP = 1e-3
"""Default lower clip of the winner's probability in [`log_loss`][racecast.evaluation.metrics.log_loss]."""

ArrayOrFrame: TypeAlias = pd.DataFrame | pd.Series | np.ndarray


def _as_frame(x: ArrayOrFrame, what: str) -> pd.DataFrame:
    """A forecasts x candidates float table (a Series is one forecast)."""
    if isinstance(x, pd.DataFrame):
        df = x
    elif isinstance(x, pd.Series):
        df = x.to_frame().T
    else:
        arr = np.asarray(x, dtype=float)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2:
            raise ForecastInputError(
                f"{what} must be a table (forecasts x candidates), got shape {arr.shape}"
            )
        df = pd.DataFrame(arr)
    if df.shape[0] == 0:
        raise ForecastInputError(f"{what} has no forecasts (no rows) to score")
    try:
        df = df.astype(float)
    except (TypeError, ValueError):
        raise ForecastInputError(f"{what} must hold numbers") from None
    if df.isna().to_numpy().any():
        rows = list(df.index[df.isna().any(axis=1)])
        raise ForecastInputError(
            f"{what} has missing values in rows {rows[:5]}{' ...' if len(rows) > 5 else ''}; "
            "select the forecasts that exist before scoring (nothing is dropped silently)"
        )
    return df


def _probabilities(p: ArrayOrFrame) -> pd.DataFrame:
    df = _as_frame(p, "win_probability")
    vals = df.to_numpy()
    if (vals < -1e-12).any() or (vals > 1 + 1e-12).any():
        raise ForecastInputError("win probabilities must lie in [0, 1]")
    return df


def _label(x: Any) -> Any:
    """A numpy scalar label as the plain Python value (``np.int64(3)`` -> ``3``)."""
    return x.item() if isinstance(x, np.generic) else x


def _winner_column(df: pd.DataFrame, winner: Hashable) -> Hashable:
    if winner in df.columns:
        return winner
    raise ForecastInputError(f"winner {winner!r} is not one of the candidates {list(df.columns)}")


def brier_score(
    win_probability: ArrayOrFrame, winner: Hashable, *, average: bool = True
) -> float | pd.Series:
    """Multi-candidate Brier score of win probabilities against the actual winner.

    Parameters
    ----------
    win_probability
        One row per forecast, one column per candidate (a Series is one forecast).
    winner
        Column label of the candidate who won.
    average
        Return the mean over forecasts (default) or the score of each forecast.

    Returns
    -------
    float or pandas.Series
        ``sum_c (p_c - 1[c = w])^2``, in ``[0, 2]``; lower is better.  With two
        candidates this is twice the binary Brier score (see the module docstring).

    Examples
    --------
    >>> import pandas as pd
    >>> from racecast.evaluation.metrics import brier_score
    >>> round(brier_score(pd.DataFrame({"A": [0.9], "B": [0.1]}), "A"), 6)   # 0.1**2 + 0.1**2
    0.02
    """
    df = _probabilities(win_probability)
    w = _winner_column(df, winner)
    truth = (df.columns == w).astype(float)
    per = ((df - truth) ** 2).sum(axis=1).rename("brier")
    return float(per.mean()) if average else per


def log_loss(
    win_probability: ArrayOrFrame, winner: Hashable, *, clip: float = LOG_LOSS_CLIP, average: bool = True
) -> float | pd.Series:
    """Log loss (nats) of win probabilities against the actual winner.

    Parameters
    ----------
    win_probability, winner
        As in [`brier_score`][racecast.evaluation.metrics.brier_score].
    clip
        The winner's probability is raised to at least ``clip`` before the log
        (default ``1e-3``; why, in the module docstring).  Must be in ``(0, 1)``.
    average
        Return the mean over forecasts (default) or the loss of each forecast.

    Returns
    -------
    float or pandas.Series
        ``-ln max(p_w, clip)``; 0 is perfect, lower is better.

    Examples
    --------
    >>> import pandas as pd
    >>> from racecast.evaluation.metrics import log_loss
    >>> round(log_loss(pd.DataFrame({"A": [0.5, 0.0], "B": [0.5, 1.0]}), "A"), 4)  # (ln 2 + ln 1000) / 2
    3.8005
    """
    if not 0 < clip < 1:
        raise ForecastInputError(f"clip must be in (0, 1), got {clip}")
    df = _probabilities(win_probability)
    w = _winner_column(df, winner)
    per = (-np.log(np.maximum(df[w], clip))).rename("log_loss")
    return float(per.mean()) if average else per


def _intervals(
    lower: ArrayOrFrame, upper: ArrayOrFrame, truth: pd.Series | np.ndarray | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series | None]:
    """Interval bounds as aligned tables (and the truth as a Series by candidate), checked."""
    lo = _as_frame(lower, "lower")
    hi = _as_frame(upper, "upper")
    if lo.shape != hi.shape:
        raise ForecastInputError(f"lower and upper differ in shape: {lo.shape} vs {hi.shape}")
    if not isinstance(lower, pd.DataFrame) or not isinstance(upper, pd.DataFrame):
        hi.index, hi.columns = lo.index, lo.columns
    elif not (lo.columns.equals(hi.columns) and lo.index.equals(hi.index)):
        raise ForecastInputError("lower and upper must have the same rows and candidate columns")
    if (hi.to_numpy() < lo.to_numpy()).any():
        raise ForecastInputError("some interval has upper < lower")
    if truth is None:
        return lo, hi, None
    if isinstance(truth, pd.Series):
        missing = [c for c in lo.columns if c not in truth.index]
        if missing:
            raise ForecastInputError(f"final shares are missing candidates {missing}")
        t = truth.reindex(lo.columns).astype(float)
    else:
        arr = np.asarray(truth, dtype=float).ravel()
        if arr.size != lo.shape[1]:
            raise ForecastInputError(f"final shares have {arr.size} values for {lo.shape[1]} candidates")
        t = pd.Series(arr, index=lo.columns)
    if t.isna().any():
        raise ForecastInputError("final shares contain missing values")
    return lo, hi, t


def interval_coverage(
    lower: ArrayOrFrame, upper: ArrayOrFrame, final_share: pd.Series | np.ndarray, *, average: bool = True
) -> float | pd.DataFrame:
    """How often the final share fell inside the forecast interval.

    Parameters
    ----------
    lower, upper
        Interval bounds of each candidate's final share, one row per forecast.
    final_share
        The actual final share of each candidate (Series by candidate, or an
        array in column order).
    average
        Return the fraction of all (forecast, candidate) intervals that hold the
        truth (default), or the boolean table.

    Returns
    -------
    float or pandas.DataFrame
        Bounds are inclusive.  A 90% interval should cover about 0.9.

    Examples
    --------
    >>> import pandas as pd
    >>> from racecast.evaluation.metrics import interval_coverage
    >>> lo = pd.DataFrame({"A": [0.50, 0.56], "B": [0.40, 0.44]})
    >>> hi = pd.DataFrame({"A": [0.60, 0.58], "B": [0.50, 0.45]})
    >>> interval_coverage(lo, hi, pd.Series({"A": 0.55, "B": 0.45}))    # 3 of 4 hold the truth
    0.75
    """
    lo, hi, t = _intervals(lower, upper, final_share)
    inside = (lo.le(t, axis=1)) & (hi.ge(t, axis=1))
    return float(inside.to_numpy().mean()) if average else inside


def interval_width(lower: ArrayOrFrame, upper: ArrayOrFrame, *, average: bool = True) -> float | pd.DataFrame:
    """Width ``upper - lower`` of final-share intervals (share points on the 0-1 scale).

    Parameters
    ----------
    lower, upper
        Interval bounds, one row per forecast, one column per candidate.
    average
        Mean over every (forecast, candidate) interval (default), or the table.

    Examples
    --------
    >>> import pandas as pd
    >>> from racecast.evaluation.metrics import interval_width
    >>> round(interval_width(pd.DataFrame({"A": [0.50, 0.55]}), pd.DataFrame({"A": [0.60, 0.56]})), 3)
    0.055
    """
    lo, hi, _ = _intervals(lower, upper)
    width = hi - lo
    return float(width.to_numpy().mean()) if average else width


def time_to_call(winner_probability: pd.Series | np.ndarray, *, threshold: float = 0.95) -> Hashable | None:
    """First forecast from which the eventual winner's probability stays >= ``threshold``.

    Parameters
    ----------
    winner_probability
        P(eventual winner) of each forecast, in order (index: release number,
        release time, ...).  An array is indexed ``0..n-1``.
    threshold
        The call level, e.g. 0.95 or 0.99.

    Returns
    -------
    index label or None
        The label of the first forecast ``k`` with ``p[j] >= threshold`` for every
        ``j >= k``; ``None`` when the last forecast is below the threshold (never
        called, or the call was withdrawn at the end).

    Examples
    --------
    >>> import pandas as pd
    >>> from racecast.evaluation.metrics import time_to_call
    >>> p = pd.Series([0.60, 0.96, 0.90, 0.97, 0.99], index=[11, 12, 13, 14, 15])
    >>> time_to_call(p, threshold=0.95)      # the call at 12 was withdrawn at 13
    14
    >>> time_to_call(p, threshold=0.99)
    15
    """
    s = winner_probability
    if not isinstance(s, pd.Series):
        s = pd.Series(np.asarray(s))
    if len(s) == 0:
        raise ForecastInputError("no forecasts to find a call in")
    if s.isna().any():
        raise ForecastInputError(
            "winner_probability has missing values; select the forecasts that exist first"
        )
    below = np.flatnonzero(s.to_numpy(dtype=float) < threshold)
    if below.size == 0:
        return _label(s.index[0])
    last_below = int(below[-1])
    if last_below == len(s) - 1:
        return None
    return _label(s.index[last_below + 1])


def confident_wrong_calls(
    win_probability: ArrayOrFrame, winner: Hashable, *, threshold: float = 0.95
) -> pd.Index:
    """Forecasts in which a candidate who lost had probability >= ``threshold``.

    Parameters
    ----------
    win_probability, winner
        As in [`brier_score`][racecast.evaluation.metrics.brier_score].
    threshold
        What counts as a confident call (default 0.95).

    Returns
    -------
    pandas.Index
        The row labels of the confident wrong calls (empty when there are none).

    Examples
    --------
    >>> import pandas as pd
    >>> from racecast.evaluation.metrics import confident_wrong_calls
    >>> p = pd.DataFrame({"A": [0.97, 0.40, 0.02], "B": [0.03, 0.60, 0.98]}, index=[1, 2, 3])
    >>> list(confident_wrong_calls(p, "B"))
    [1]
    """
    df = _probabilities(win_probability)
    w = _winner_column(df, winner)
    losers = df.drop(columns=[w])
    if losers.shape[1] == 0:
        return df.index[:0]
    return df.index[(losers >= threshold).any(axis=1).to_numpy()]


def final_shares(final_votes: pd.Series) -> pd.Series:
    """Each candidate's share of the candidates' final votes.

    Examples
    --------
    >>> import pandas as pd
    >>> from racecast.evaluation.metrics import final_shares
    >>> final_shares(pd.Series({"A": 30, "B": 70})).to_dict()
    {'A': 0.3, 'B': 0.7}
    """
    v = final_votes.astype(float)
    total = float(v.sum())
    if not np.isfinite(total) or total <= 0:
        raise ForecastInputError("final votes must be finite with a positive total")
    return (v / total).rename("final_share")


def winner_of(final_votes: pd.Series) -> Hashable:
    """The candidate with the most final votes.

    Raises
    ------
    ForecastInputError
        On an exact tie for first place (the scores would depend on how the tie
        was broken; score such a contest against the declared winner instead).

    Examples
    --------
    >>> import pandas as pd
    >>> from racecast.evaluation.metrics import winner_of
    >>> winner_of(pd.Series({"A": 30, "B": 70}))
    'B'
    """
    top = final_votes.max()
    best = list(final_votes.index[final_votes == top])
    if len(best) != 1:
        raise ForecastInputError(f"the final count is an exact tie between {best}; pass the declared winner")
    return _label(best[0])
