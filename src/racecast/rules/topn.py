"""Top-``n`` rules: the ``n`` candidates with the most votes win (plurality, seats, top two).

[`Plurality`][racecast.rules.Plurality] is ``n = 1``, [`Seats`][racecast.rules.Seats]
``n = seats`` and [`TopTwo`][racecast.rules.TopTwo] ``n = 2`` with its general-election
pairings; they differ only in ``n``, the name of their per-candidate event and
whether pairings are reported, so one base class decides and summarises for all three.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..errors import ForecastInputError
from .base import _DEFAULT_RECOUNT_MARGIN, Rule, _Decisions, _Draws, _pairings, _Row, _rows

__all__ = ["Plurality", "Seats", "TopTwo"]


class _TopN(Rule):
    """The ``n`` candidates with the most votes win; an exact tie for the last place is a coin flip.

    Subclasses say how many win (``_n``), the name of the per-candidate event
    (``_win_event``) and, when the winners' matchups matter, the name of the
    pairing event (``_pairing_event``).
    """

    _win_event: ClassVar[str]
    _pairing_event: ClassVar[str | None] = None

    def _n(self) -> int:
        """How many candidates win."""
        raise NotImplementedError

    def _min_eligible(self) -> int:
        return self._n()

    def _max_called(self) -> int:
        return self._n()

    def _decide(self, draws: _Draws, forced: tuple[int, ...] | None) -> _Decisions:
        n = self._n()
        d = draws.votes.shape[0]
        winners = np.zeros(draws.votes.shape, dtype=bool)
        winners[np.arange(d)[:, None], draws.order[:, :n]] = True
        if n >= int(draws.eligible.sum()):  # uncontested: every candidate wins
            none = np.zeros(d, dtype=bool)
            return {"winners": winners, "tie": none, "within_recount_margin": none}
        tie, gap = draws.boundary(n)
        return {"winners": winners, "tie": tie, "within_recount_margin": gap <= self.recount_margin}

    def _summarise(self, dec: _Decisions, cands: tuple[str, ...]) -> tuple[np.ndarray, list[_Row]]:
        p = dec["winners"].mean(axis=0)
        rows = _rows(self._win_event, cands, p)
        if self._pairing_event is not None:
            rows += _pairings(dec["winners"], cands, self._pairing_event)
        return p, rows


@dataclass(frozen=True)
class Plurality(_TopN):
    """One winner: the candidate with the most votes.

    ``win_probability`` is P(most votes) and sums to 1.  Outcomes: ``win`` per
    candidate, ``tie`` (an exact tie for first place, settled by a coin flip) and
    ``within_recount_margin`` (first and second within ``recount_margin`` of the
    votes).  ``called`` is the called winner.

    Parameters
    ----------
    recount_margin
        Share of the votes (0.005 = half a point) under which the margin between
        first and second counts as recount territory.

    Examples
    --------
    >>> import numpy as np
    >>> votes = np.array([[60, 40], [40, 60], [50, 50]])
    >>> res = Plurality().evaluate(votes, ("A", "B"), np.random.default_rng(1))
    >>> float(res.win_probability.sum()), res.probability("tie")
    (1.0, 0.3333333333333333)
    """

    recount_margin: float = _DEFAULT_RECOUNT_MARGIN
    name: ClassVar[str] = "plurality"
    _win_event: ClassVar[str] = "win"

    def _n(self) -> int:
        return 1


@dataclass(frozen=True)
class Seats(_TopN):
    """Multi-seat contest: the ``n`` candidates with the most votes each win a seat.

    ``win_probability`` is P(win a seat) and sums to ``n``.  Outcomes: ``seat``
    per candidate, ``tie`` (an exact tie for the last seat, settled by a coin
    flip) and ``within_recount_margin`` (the last winner and the first loser
    within ``recount_margin`` of the votes).  ``called`` names up to ``n``
    candidates called as seat winners (the other seats stay uncertain).

    Parameters
    ----------
    n
        Number of seats; the count needs more candidates than seats.
    recount_margin
        Share of the votes under which the last-seat margin is recount territory.

    Examples
    --------
    >>> import numpy as np
    >>> votes = np.array([[50, 30, 20], [50, 20, 30]])
    >>> res = Seats(2).evaluate(votes, ("A", "B", "C"), np.random.default_rng(0))
    >>> res.win_probability.to_dict()
    {'A': 1.0, 'B': 0.5, 'C': 0.5}
    """

    n: int = 1
    recount_margin: float = _DEFAULT_RECOUNT_MARGIN
    name: ClassVar[str] = "seats"
    win_label: ClassVar[str] = "P(seat)"
    _win_event: ClassVar[str] = "seat"

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, (int, np.integer)) or self.n < 1:
            raise ForecastInputError(f"seats must be a whole number >= 1, got {self.n!r}")
        super().__post_init__()

    def _n(self) -> int:
        return int(self.n)


@dataclass(frozen=True)
class TopTwo(_TopN):
    """Top-two primary (California): the two candidates with the most votes advance.

    ``win_probability`` is P(advance) and sums to 2.  Outcomes: ``advance`` per
    candidate, ``pairing`` per general-election matchup (``"A vs B"``, every
    pairing that occurs in some draw, most likely first; they sum to 1), ``tie``
    (an exact tie for second place, settled by a coin flip) and
    ``within_recount_margin`` (second and third within ``recount_margin``).
    ``called`` names one or both candidates called as advancing.

    Examples
    --------
    >>> import numpy as np
    >>> votes = np.array([[40, 35, 25], [40, 25, 35]])
    >>> res = TopTwo().evaluate(votes, ("A", "B", "C"), np.random.default_rng(0))
    >>> res.probabilities("pairing").to_dict()
    {'A vs B': 0.5, 'A vs C': 0.5}
    """

    recount_margin: float = _DEFAULT_RECOUNT_MARGIN
    name: ClassVar[str] = "top_two"
    win_label: ClassVar[str] = "P(advance)"
    _win_event: ClassVar[str] = "advance"
    _pairing_event: ClassVar[str | None] = "pairing"

    def _n(self) -> int:
        return 2
