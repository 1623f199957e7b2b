"""Majority with runoff: above a threshold wins outright, else the top two meet again."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

import numpy as np

from ..errors import ForecastInputError
from ._shares import _above, _as_fraction, _near
from .base import _DEFAULT_RECOUNT_MARGIN, Rule, _Decisions, _Draws, _pairings, _Row, _rows

__all__ = ["Majority"]


@dataclass(frozen=True)
class Majority(Rule):
    """Majority with runoff: above ``threshold`` of the votes wins outright, else the top two meet again.

    The first-placed candidate wins outright when its share of all votes is
    strictly above ``threshold`` (Los Angeles city elections: "more than 50%").
    Otherwise the top two go to a runoff.

    ``win_probability`` is P(win outright) and sums to 1 - P(runoff).  Outcomes:
    ``win_outright`` and ``reach_runoff`` per candidate (``reach_runoff`` sums
    to 2 P(runoff)), ``runoff`` (contest), ``runoff_pairing`` per matchup
    (``"A vs B"``, sums to P(runoff)), ``tie`` (the result hinged on an exact tie
    settled by a coin flip: for the second runoff place, or for first place when
    ``threshold < 0.5``), ``at_threshold`` (the leader's share exactly equal to
    the threshold: no outright win) and ``within_recount_margin`` (the leader's
    share within ``recount_margin`` of the threshold, or, in a runoff, second
    and third within ``recount_margin``).

    ``called`` is one name (called as the outright winner) or two names (called
    as the runoff pair).

    Parameters
    ----------
    threshold
        Share of the votes to win outright, strictly between 0 and 1 (a float,
        a ``fractions.Fraction`` or a string such as ``"2/3"``).
    recount_margin
        Share of the votes that counts as recount territory.

    Examples
    --------
    >>> import numpy as np
    >>> votes = np.array([[55, 30, 15], [45, 35, 20], [45, 20, 35], [30, 50, 20]])
    >>> res = Majority().evaluate(votes, ("A", "B", "C"), np.random.default_rng(0))
    >>> res.probability("runoff"), res.win_probability.to_dict()
    (0.75, {'A': 0.25, 'B': 0.0, 'C': 0.0})
    >>> res.probabilities("reach_runoff").to_dict()
    {'A': 0.75, 'B': 0.5, 'C': 0.25}
    """

    threshold: float | Fraction | str = 0.5
    recount_margin: float = _DEFAULT_RECOUNT_MARGIN
    name: ClassVar[str] = "majority"
    win_label: ClassVar[str] = "P(outright)"

    def __post_init__(self) -> None:
        object.__setattr__(self, "threshold", _as_fraction(self.threshold, "the majority threshold"))
        super().__post_init__()

    def _min_eligible(self) -> int:
        return 2

    def _check_call_size(self, n: int) -> None:
        if n > 2:
            raise ForecastInputError(
                "called= for a majority rule is one name (the outright winner) or two (the runoff pair), "
                f"got {n}"
            )

    def _decide(self, draws: _Draws, forced: tuple[int, ...] | None) -> _Decisions:
        thr = Fraction(self.threshold)
        d, k = draws.votes.shape
        order, total, top = draws.order, draws.total, draws.sorted_votes[:, 0]
        above, at = _above(top, total, thr)
        outright = np.full(d, len(forced) == 1) if forced is not None else above
        run = ~outright
        rows = np.arange(d)
        winners = np.zeros((d, k), dtype=bool)
        winners[rows[outright], order[outright, 0]] = True
        finalists = np.zeros((d, k), dtype=bool)
        finalists[rows[run], order[run, 0]] = True
        finalists[rows[run], order[run, 1]] = True
        tie = np.zeros(d, dtype=bool)
        close = _near(top, total, thr, self.recount_margin)
        if int(draws.eligible.sum()) >= 3:
            tie23, gap23 = draws.boundary(2)
            tie |= run & tie23
            close |= run & (gap23 <= self.recount_margin)
        if thr < Fraction(1, 2):
            tie12, _ = draws.boundary(1)
            tie |= outright & tie12
        return {
            "winners": winners,
            "finalists": finalists,
            "runoff": run,
            "tie": tie,
            "at_threshold": at,
            "within_recount_margin": close,
        }

    def _matches_call(self, dec: _Decisions, called: tuple[int, ...]) -> np.ndarray:
        if len(called) == 1:
            return dec["winners"][:, called[0]]
        return np.asarray(dec["runoff"] & dec["finalists"][:, list(called)].all(axis=1))

    def _summarise(self, dec: _Decisions, cands: tuple[str, ...]) -> tuple[np.ndarray, list[_Row]]:
        p = dec["winners"].mean(axis=0)
        rows = _rows("win_outright", cands, p)
        rows.append(("runoff", "", dec["runoff"].mean()))
        rows += _rows("reach_runoff", cands, dec["finalists"].mean(axis=0))
        rows += _pairings(dec["finalists"], cands, "runoff_pairing")
        return p, rows
