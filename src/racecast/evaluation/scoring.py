"""The record of a sequence of forecasts of one contest: [`Score`][racecast.evaluation.scoring.Score].

[`score_forecasts`][racecast.evaluation.scoring.score_forecasts] applies every
metric of [`racecast.evaluation.metrics`][] (Brier, log loss, interval coverage and
width, time to call, confident wrong calls; defined there) to one table of
forecasts. This module is ``racecast.scoring``: the metrics are importable from it too.

Examples
--------
>>> import pandas as pd
>>> from racecast import scoring
>>> p = pd.DataFrame({"A": [0.5, 0.8, 1.0], "B": [0.5, 0.2, 0.0]})
>>> round(scoring.brier_score(p, "A"), 4)          # (0.5 + 0.08 + 0) / 3
0.1933
>>> scoring.score_forecasts(p, final_votes=pd.Series({"A": 60, "B": 40})).called_95
2
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from ..errors import ForecastInputError
from . import metrics as _metrics
from .metrics import (
    LOG_LOSS_CLIP,
    ArrayOrFrame,
    _probabilities,
    _winner_column,
    brier_score,
    confident_wrong_calls,
    final_shares,
    interval_coverage,
    interval_width,
    log_loss,
    time_to_call,
    winner_of,
)

__all__ = ["Score", "score_forecasts"]
__all__ += _metrics.__all__


@dataclass(frozen=True)
class Score:
    """The record of a sequence of forecasts of one contest.

    Attributes
    ----------
    n_forecasts : int
        Number of forecasts scored.
    winner : hashable
        The candidate who won.
    brier, log_loss : float
        Means over forecasts (defined in [`racecast.evaluation.metrics`][]).
    coverage : float
        Fraction of final-share intervals holding the final share (``nan`` when
        no intervals were given).
    interval_width : float
        Mean interval width in share points, 0-1 scale (``nan`` without intervals).
    called_95, called_99 : hashable or None
        [`time_to_call`][racecast.evaluation.metrics.time_to_call] at 0.95 and 0.99 (row labels of
        the forecasts).
    confident_wrong_calls : int
        Number of forecasts in which a loser had probability >= 0.95.
    """

    n_forecasts: int
    winner: Hashable
    brier: float
    log_loss: float
    coverage: float
    interval_width: float
    called_95: Hashable | None
    called_99: Hashable | None
    confident_wrong_calls: int

    def to_dict(self) -> dict[str, Any]:
        """The score as a plain dict (one row of a comparison table)."""
        return asdict(self)


def score_forecasts(
    win_probability: ArrayOrFrame,
    *,
    final_votes: pd.Series,
    share_lower: ArrayOrFrame | None = None,
    share_upper: ArrayOrFrame | None = None,
    winner: Hashable | None = None,
    clip: float = LOG_LOSS_CLIP,
) -> Score:
    """Every score of a sequence of forecasts of one contest.

    Parameters
    ----------
    win_probability
        One row per forecast, one column per candidate.
    final_votes
        Final votes by candidate (the truth).
    share_lower, share_upper
        Final-share interval bounds, same shape as ``win_probability``
        (optional; coverage and width are ``nan`` without them).
    winner
        The declared winner; by default the candidate with most ``final_votes``.
    clip
        Lower clip of the winner's probability in the log loss.

    Returns
    -------
    Score

    Examples
    --------
    >>> import pandas as pd
    >>> from racecast.evaluation.scoring import score_forecasts
    >>> p = pd.DataFrame({"A": [0.6, 0.97], "B": [0.4, 0.03]})
    >>> s = score_forecasts(p, final_votes=pd.Series({"A": 55, "B": 45}))
    >>> s.called_95, s.confident_wrong_calls
    (1, 0)
    """
    df = _probabilities(win_probability)
    w = winner_of(final_votes) if winner is None else winner
    cov = width = float("nan")
    if (share_lower is None) != (share_upper is None):
        raise ForecastInputError("give both share_lower and share_upper, or neither")
    if share_lower is not None and share_upper is not None:
        truth = final_shares(final_votes)
        cov = float(interval_coverage(share_lower, share_upper, truth))
        width = float(interval_width(share_lower, share_upper))
    pw = df[_winner_column(df, w)]
    return Score(
        n_forecasts=int(df.shape[0]),
        winner=w,
        brier=float(brier_score(df, w)),
        log_loss=float(log_loss(df, w, clip=clip)),
        coverage=cov,
        interval_width=width,
        called_95=time_to_call(pw, threshold=0.95),
        called_99=time_to_call(pw, threshold=0.99),
        confident_wrong_calls=len(confident_wrong_calls(df, w, threshold=0.95)),
    )
