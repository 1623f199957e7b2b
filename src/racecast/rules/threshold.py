"""Ballot measures: a Yes/No count passes when the Yes share reaches a threshold."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

import numpy as np

from ..errors import ForecastInputError
from ._shares import _above, _as_fraction, _near
from .base import _DEFAULT_RECOUNT_MARGIN, Rule, _Decisions, _Draws, _Row

__all__ = ["Threshold"]


@dataclass(frozen=True)
class Threshold(Rule):
    """Ballot measure: passes when the Yes share of Yes + No votes reaches ``share``.

    The count has exactly two columns, ``yes`` and ``no``.  The measure passes
    when ``Yes / (Yes + No)`` is above ``share``; exactly at the line it passes
    if ``pass_at_line`` (default: it fails at exactly 50%, since a tie is not a
    majority, and passes at exactly any other share, the "at least two-thirds"
    convention of supermajority measures).

    ``win_probability`` is P(pass) for the Yes column and P(fail) for the No
    column; it sums to 1.  Outcomes: ``pass`` (candidate ``yes``), ``fail``
    (candidate ``no``), ``at_threshold`` (exactly at the line) and
    ``within_recount_margin`` (the Yes share within ``recount_margin`` of the
    line).  ``called`` is the Yes name (called as passed) or the No name.

    Parameters
    ----------
    share
        Required Yes share, strictly between 0 and 1: 0.5, 0.55, ``"2/3"``...
        Floats are read as the nearest fraction with denominator up to 10**6,
        so ``2/3`` is exactly two-thirds.
    yes, no
        Column names of the Yes and No votes.
    pass_at_line
        Whether a Yes share exactly equal to ``share`` passes (see above).
    recount_margin
        Share of the Yes + No votes that counts as recount territory.

    Examples
    --------
    >>> import numpy as np
    >>> votes = np.array([[70, 30], [66, 34], [200, 100]])
    >>> res = Threshold("2/3").evaluate(votes, ("Yes", "No"), np.random.default_rng(0))
    >>> res.win_probability.to_dict()
    {'Yes': 0.6666666666666666, 'No': 0.3333333333333333}
    """

    share: float | Fraction | str = 0.5
    yes: str = "Yes"
    no: str = "No"
    pass_at_line: bool | None = None
    recount_margin: float = _DEFAULT_RECOUNT_MARGIN
    name: ClassVar[str] = "threshold"
    win_label: ClassVar[str] = "P(pass/fail)"

    def __post_init__(self) -> None:
        object.__setattr__(self, "share", _as_fraction(self.share, "the threshold share"))
        super().__post_init__()
        if self.yes == self.no:
            raise ForecastInputError(f"yes= and no= must be different columns, got {self.yes!r} twice")

    def _check_candidates(self, cands: tuple[str, ...], eligible: np.ndarray) -> None:
        if set(cands) != {self.yes, self.no}:
            raise ForecastInputError(
                f"the threshold rule needs exactly the columns {self.yes!r} and {self.no!r} (set yes=/no= "
                f"to your column names), got {list(cands)}"
            )

    def _decide(self, draws: _Draws, forced: tuple[int, ...] | None) -> _Decisions:
        i_yes, i_no = draws.cands.index(self.yes), draws.cands.index(self.no)
        y, n = draws.votes[:, i_yes], draws.votes[:, i_no]
        share = Fraction(self.share)
        above, at = _above(y, y + n, share)
        at_passes = self.pass_at_line if self.pass_at_line is not None else share != Fraction(1, 2)
        passes = above | (at & at_passes)
        if forced is not None:
            passes = np.full(y.shape[0], forced[0] == i_yes)
        winners = np.zeros(draws.votes.shape, dtype=bool)
        winners[:, i_yes] = passes
        winners[:, i_no] = ~passes
        close = _near(y, y + n, share, self.recount_margin)
        return {"winners": winners, "at_threshold": at, "within_recount_margin": close}

    def _summarise(self, dec: _Decisions, cands: tuple[str, ...]) -> tuple[np.ndarray, list[_Row]]:
        p = dec["winners"].mean(axis=0)
        rows: list[_Row] = [
            ("pass", self.yes, p[cands.index(self.yes)]),
            ("fail", self.no, p[cands.index(self.no)]),
        ]
        return p, rows
