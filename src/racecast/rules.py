"""Contest rules: who wins, given simulated final vote totals.

A rule turns an array of simulated final totals ``(draws, candidates)`` into the
events the contest defines (who wins, who reaches a runoff, whether a measure
passes, ...) and their probabilities, estimated as the share of draws in which
the event happens.  Rules are small immutable objects:

=======================  ====================================  =======================
rule                     ``win_probability`` means             sums to
=======================  ====================================  =======================
:class:`Plurality`       P(most votes)                         1
:class:`Majority`        P(win outright, above the threshold)  1 - P(runoff)
:class:`TopTwo`          P(advance to the general election)    2
:class:`Seats`           P(win one of the ``n`` seats)         ``n``
:class:`Threshold`       Yes: P(pass), No: P(fail)             1
=======================  ====================================  =======================

:func:`resolve_rule` accepts the string shortcuts used by
:func:`racecast.forecast` (``"plurality"``, ``"majority"``, ``"majority:0.4"``,
``"top_two"``, ``"seats:3"``, ``"threshold"``, ``"threshold:2/3"``).

Ties: an exact tie for a decisive place is broken uniformly at random within the
draw (a coin flip: many US jurisdictions settle ties by lot), so a tied pair
splits the draw's win.  The probability that the result comes down to such a
tie is reported as the ``tie`` event, and the probability that the decisive
margin is within a recount margin (``recount_margin``, a share of the votes,
0.005 = half a point) as ``within_recount_margin``.

Pooled blocs: a column named ``"Other (n candidates)"`` (see
:mod:`racecast.pooling`) counts towards totals and shares but never takes a
winning place; its probabilities are reported as 0.

Called races: ``evaluate(..., called=...)`` pins the outcome an authority has
called.  Every event is then computed on the draws consistent with the call
(probabilities conditional on the call), and :attr:`RuleResult.kept_draws` says
which draws those are, so vote-share intervals can be conditioned the same way.
"""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .errors import CalledRaceWarning, ForecastInputError
from .pooling import is_pooled

__all__ = [
    "Majority",
    "Plurality",
    "Rule",
    "RuleResult",
    "Seats",
    "Threshold",
    "TopTwo",
    "lead_change_probability",
    "resolve_rule",
]

#: Events that describe how close the result was; undefined (NaN) when a call
#: contradicts every draw and the outcome had to be imposed.
_CLOSENESS_EVENTS = ("tie", "at_threshold", "within_recount_margin")
_DEFAULT_RECOUNT_MARGIN = 0.005


# ---------------------------------------------------------------------------
# Result
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RuleResult:
    """What a rule says about a set of simulated final counts.

    Attributes
    ----------
    win_probability : pandas.Series
        Per candidate, indexed by candidate; its meaning is the rule's (see the
        table in :mod:`racecast.rules`).
    outcomes : pandas.DataFrame
        Tidy table of every event the rule defines: columns ``event``,
        ``candidate`` (``""`` when the event is about the contest, ``"A vs B"``
        for a pairing) and ``probability``.
    winners : numpy.ndarray
        ``(kept draws, candidates)`` boolean: which candidates the rule marks as
        winners (``win_probability`` is its column mean) in each kept draw.
    rule : str
        Name of the rule that produced the result.
    called : tuple of str
        The called outcome the result is pinned to (empty when none).
    called_probability : float
        The model's probability of the called outcome before pinning (NaN when
        nothing is called).
    kept_draws : numpy.ndarray or None
        ``(draws,)`` boolean: the simulated draws the result is computed on (all
        of them unless a race is called; then those consistent with the call).
        ``None`` means all draws.

    Examples
    --------
    >>> import numpy as np
    >>> res = Plurality().evaluate(np.array([[60, 40], [45, 55]]), ("A", "B"), np.random.default_rng(0))
    >>> res.win_probability.to_dict()
    {'A': 0.5, 'B': 0.5}
    >>> res.probability("tie")
    0.0
    """

    win_probability: pd.Series
    outcomes: pd.DataFrame
    winners: np.ndarray
    rule: str = ""
    called: tuple[str, ...] = ()
    called_probability: float = float("nan")
    kept_draws: np.ndarray | None = None

    @property
    def events(self) -> tuple[str, ...]:
        """The event names in :attr:`outcomes`, in table order."""
        return tuple(dict.fromkeys(self.outcomes["event"]))

    def probabilities(self, event: str) -> pd.Series:
        """Probabilities of one event, indexed by candidate (or pairing).

        Examples
        --------
        >>> import numpy as np
        >>> res = TopTwo().evaluate(np.array([[50, 30, 20]]), ("A", "B", "C"), np.random.default_rng(0))
        >>> res.probabilities("advance").to_dict()
        {'A': 1.0, 'B': 1.0, 'C': 0.0}
        """
        rows = self.outcomes[self.outcomes["event"] == event]
        if rows.empty:
            raise KeyError(f"no event {event!r}; this {self.rule} result has {list(self.events)}")
        return pd.Series(
            rows["probability"].to_numpy(),
            index=pd.Index(rows["candidate"].to_numpy(), name="candidate"),
            name=event,
        )

    def summary_lines(self, *, top: int = 3) -> list[str]:
        """Readable lines for the events beyond ``win_probability``.

        Contest-level events (``runoff``, ``tie``, ...) one per line; other
        per-candidate events (``reach_runoff``) and the ``top`` most likely
        pairings on one line each.

        Examples
        --------
        >>> import numpy as np
        >>> res = Majority().evaluate(np.array([[40, 35, 25]]), ("A", "B", "C"), np.random.default_rng(0))
        >>> print("\\n".join(res.summary_lines()))
        P(runoff) = 1.000
        P(reach_runoff): A 1.000, B 1.000, C 0.000
        P(runoff_pairing): A vs B 1.000
        P(tie) = 0.000
        P(at_threshold) = 0.000
        P(within_recount_margin) = 0.000
        """
        lines = []
        if self.called:
            lines.append(
                f"called: {' and '.join(self.called)} (the model gave this outcome {self.called_probability:.3f} "
                "before the call; every probability is conditional on it)"
            )
        wp = self.win_probability
        for event in self.events:
            s = self.probabilities(event)
            if len(s) == 1 and s.index[0] == "":
                lines.append(f"P({event}) = {s.iloc[0]:.3f}")
            elif s.index.isin(wp.index).all() and np.allclose(
                s.to_numpy(), wp[s.index].to_numpy(), equal_nan=True
            ):
                continue  # the win_probability events themselves (win, seat, pass/fail, ...)
            else:
                shown = s.head(top) if "pairing" in event else s
                lines.append(f"P({event}): " + ", ".join(f"{c} {p:.3f}" for c, p in shown.items()))
        return lines

    def probability(self, event: str) -> float:
        """Probability of a contest-level event (``runoff``, ``tie``, ...).

        Examples
        --------
        >>> import numpy as np
        >>> res = Majority().evaluate(np.array([[40, 35, 25]]), ("A", "B", "C"), np.random.default_rng(0))
        >>> res.probability("runoff")
        1.0
        """
        s = self.probabilities(event)
        if len(s) != 1 or s.index[0] != "":
            raise KeyError(f"event {event!r} is per candidate; use .probabilities({event!r})")
        return float(s.iloc[0])


# ---------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------
def _as_fraction(x: float | Fraction | str, what: str) -> Fraction:
    try:
        if isinstance(x, str):
            f = Fraction(x.strip())
        elif isinstance(x, Fraction):
            f = x
        else:
            xf = float(x)
            if not np.isfinite(xf):
                raise ValueError
            f = Fraction(xf).limit_denominator(1_000_000)
    except (ValueError, ZeroDivisionError, TypeError):
        raise ForecastInputError(f"{what} must be a share such as 0.5, 0.55 or '2/3', got {x!r}") from None
    if not (0 < f < 1):
        raise ForecastInputError(f"{what} must be strictly between 0 and 1, got {x!r}")
    return f


def _check_margin(m: float) -> None:
    if not (np.isfinite(m) and 0 <= m < 1):
        raise ForecastInputError(
            f"recount_margin must be a share of the votes in [0, 1), e.g. 0.005, got {m!r}"
        )


def _check_votes(final_votes: Any, candidates: Iterable[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    cands = tuple(str(c) for c in candidates)
    v = np.asarray(final_votes)
    if v.ndim != 2 or v.shape[0] < 1 or v.shape[1] != len(cands):
        raise ForecastInputError(
            f"final votes must be a (draws, candidates) array with {len(cands)} columns and at least one draw, "
            f"got shape {v.shape}"
        )
    if not np.issubdtype(v.dtype, np.number) or np.issubdtype(v.dtype, np.complexfloating):
        raise ForecastInputError(f"final votes must be numbers, got dtype {v.dtype}")
    v = v.astype(np.float64)
    if not np.isfinite(v).all() or (v < 0).any():
        raise ForecastInputError("final votes must be finite and non-negative in every draw")
    if len(set(cands)) != len(cands):
        raise ForecastInputError(f"candidate names must be unique, got {list(cands)}")
    return v, cands


def _rank(votes: np.ndarray, eligible: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Candidate indices per draw, best first; exact ties broken uniformly at random.

    Ineligible columns (pooled blocs) are ranked after every eligible candidate.
    """
    key = np.where(eligible[None, :], votes, -1.0)
    jitter = rng.random(votes.shape)
    # lexsort: the last key is primary -> votes descending, then the random jitter
    return np.lexsort((jitter, -key), axis=-1)


def _force_order(order: np.ndarray, called: tuple[int, ...]) -> np.ndarray:
    """Move the called candidates to the front of every draw's ranking (stable)."""
    k = order.shape[1]
    pos = np.argsort(order, axis=1)
    is_called = np.zeros(k, dtype=bool)
    is_called[list(called)] = True
    return np.argsort(pos - k * is_called[None, :], axis=1, kind="stable")


def _sorted_votes(votes: np.ndarray, order: np.ndarray) -> np.ndarray:
    return np.take_along_axis(votes, order, axis=1)


def _share(x: np.ndarray, total: np.ndarray) -> np.ndarray:
    return np.divide(x, total, out=np.zeros_like(x, dtype=np.float64), where=total > 0)


def _above(x: np.ndarray, total: np.ndarray, share: Fraction) -> tuple[np.ndarray, np.ndarray]:
    """``x / total > share`` and ``x / total == share``, exactly for whole-number votes."""
    lhs = x * share.denominator
    rhs = total * share.numerator
    return lhs > rhs, lhs == rhs


def _boundary(sv: np.ndarray, total: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact tie and margin (share of ``total``) between ranks ``r - 1`` and ``r``."""
    return sv[:, r - 1] == sv[:, r], _share(sv[:, r - 1] - sv[:, r], total)


def _rows(event: str, names: Iterable[str], probs: Iterable[float]) -> list[tuple[str, str, float]]:
    return [(event, n, float(p)) for n, p in zip(names, probs)]


def _pairings(members: np.ndarray, cands: tuple[str, ...], event: str) -> list[tuple[str, str, float]]:
    """Rows ``(event, "A vs B", P)`` for every pair that occurs in some draw, most likely first."""
    if members.shape[0] == 0:
        return []
    rows = []
    for i, j in itertools.combinations(range(len(cands)), 2):
        p = float((members[:, i] & members[:, j]).mean())
        if p > 0:
            rows.append((event, f"{cands[i]} vs {cands[j]}", p))
    rows.sort(key=lambda r: -r[2])
    return rows


# ---------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------
class Rule:
    """Base class of contest rules.

    Subclasses implement ``_decide`` (per-draw decisions), ``_matches_call``
    (which draws agree with a called outcome) and ``_summarise`` (probabilities
    over a set of draws); :meth:`evaluate` does the rest the same way for every
    rule.
    """

    name: str = "rule"
    #: Column header for ``win_probability`` in summaries.
    win_label: str = "P(win)"

    def evaluate(
        self,
        final_votes: np.ndarray,
        candidates: Iterable[str],
        rng: np.random.Generator,
        *,
        called: str | Iterable[str] | None = None,
    ) -> RuleResult:
        """Evaluate the rule on simulated final totals ``(draws, candidates)``.

        Parameters
        ----------
        final_votes
            ``(draws, candidates)`` simulated final votes.
        candidates
            Candidate names, one per column.
        rng
            Random generator for tie-breaks.
        called
            An outcome called by an authority: a name or names (see each rule).
            Probabilities are then conditional on the call; if no draw agrees with
            it, the call is imposed on every draw and a
            :class:`~racecast.errors.CalledRaceWarning` is issued.

        Returns
        -------
        RuleResult

        Examples
        --------
        >>> import numpy as np
        >>> votes = np.array([[60, 40], [45, 55], [70, 30], [52, 48]])
        >>> Plurality().evaluate(votes, ("A", "B"), np.random.default_rng(0)).win_probability["A"]
        np.float64(0.75)
        >>> Plurality().evaluate(votes, ("A", "B"), np.random.default_rng(0), called="B").win_probability["B"]
        np.float64(1.0)
        """
        votes, cands = _check_votes(final_votes, candidates)
        eligible = np.array([not is_pooled(c) for c in cands])
        self._check_candidates(cands, eligible)
        called_idx = self._parse_called(called, cands, eligible)
        order = _rank(votes, eligible, rng)
        dec = self._decide(votes, order, eligible, None, cands)
        keep = np.ones(votes.shape[0], dtype=bool)
        p_called = float("nan")
        imposed = False
        if called_idx:
            ok = self._matches_call(dec, called_idx)
            p_called = float(ok.mean())
            if ok.any():
                keep = ok
            else:
                names = [cands[i] for i in called_idx]
                warnings.warn(
                    f"the called outcome {names} happens in none of the {votes.shape[0]} simulated draws; it is "
                    "imposed on every draw, the closeness events (tie, recount margin) are undefined (NaN) and "
                    "vote-share intervals are not consistent with the call. Check the name and the count.",
                    CalledRaceWarning,
                    stacklevel=2,
                )
                dec = self._decide(votes, _force_order(order, called_idx), eligible, called_idx, cands)
                imposed = True
        sub = {k: a[keep] for k, a in dec.items()}
        win_p, rows = self._summarise(votes[keep], sub, cands)
        outcomes = pd.DataFrame(rows, columns=["event", "candidate", "probability"])
        if imposed:
            outcomes.loc[outcomes["event"].isin(_CLOSENESS_EVENTS), "probability"] = np.nan
        return RuleResult(
            win_probability=pd.Series(win_p, index=pd.Index(cands, name="candidate"), name="win_probability"),
            outcomes=outcomes,
            winners=sub["winners"],
            rule=self.name,
            called=tuple(cands[i] for i in called_idx),
            called_probability=p_called,
            kept_draws=keep,
        )

    def check(self, candidates: Iterable[str], *, called: str | Iterable[str] | None = None) -> None:
        """Raise :class:`~racecast.errors.ForecastInputError` if the rule cannot apply to these candidates.

        Lets :func:`racecast.forecast` fail before fitting a model: wrong
        columns for a measure, more seats than candidates, an unknown called name.

        Examples
        --------
        >>> Threshold().check(("Yes", "No"), called="Yes")
        >>> Seats(3).check(("A", "B"))
        Traceback (most recent call last):
        racecast.errors.ForecastInputError: the seats rule needs at least 3 candidates that are not pooled blocs, got ['A', 'B']
        """
        cands = tuple(str(c) for c in candidates)
        eligible = np.array([not is_pooled(c) for c in cands])
        self._check_candidates(cands, eligible)
        self._parse_called(called, cands, eligible)

    # -- hooks ---------------------------------------------------------------
    def _min_eligible(self) -> int:
        """Smallest number of candidates (not pooled blocs) the rule needs."""
        return 1

    def _check_candidates(self, cands: tuple[str, ...], eligible: np.ndarray) -> None:
        if eligible.sum() < self._min_eligible():
            raise ForecastInputError(
                f"the {self.name} rule needs at least {self._min_eligible()} candidates that are not pooled "
                f"blocs, got {[c for c, e in zip(cands, eligible) if e]}"
            )

    def _max_called(self) -> int:
        return 1

    def _parse_called(
        self, called: str | Iterable[str] | None, cands: tuple[str, ...], eligible: np.ndarray
    ) -> tuple[int, ...]:
        if called is None:
            return ()
        names = (called,) if isinstance(called, str) else tuple(called)
        if not names:
            return ()
        if len(set(names)) != len(names):
            raise ForecastInputError(f"called= names a candidate twice: {list(names)}")
        idx = []
        for n in names:
            if n not in cands:
                raise ForecastInputError(f"called={n!r} is not a candidate; candidates: {list(cands)}")
            if not eligible[cands.index(n)]:
                raise ForecastInputError(
                    f"called={n!r} is a pooled bloc, not a candidate; it cannot be called"
                )
            idx.append(cands.index(n))
        self._check_call_size(len(idx))
        return tuple(idx)

    def _check_call_size(self, n: int) -> None:
        if n > self._max_called():
            raise ForecastInputError(
                f"the {self.name} rule has {self._max_called()} winner(s); called= names {n}"
            )

    def _decide(
        self,
        votes: np.ndarray,
        order: np.ndarray,
        eligible: np.ndarray,
        forced: tuple[int, ...] | None,
        cands: tuple[str, ...],
    ) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _matches_call(self, dec: dict[str, np.ndarray], called: tuple[int, ...]) -> np.ndarray:
        return dec["winners"][:, list(called)].all(axis=1)

    def _summarise(
        self, votes: np.ndarray, dec: dict[str, np.ndarray], cands: tuple[str, ...]
    ) -> tuple[np.ndarray, list[tuple[str, str, float]]]:
        raise NotImplementedError


def _top_n(
    votes: np.ndarray, order: np.ndarray, eligible: np.ndarray, n: int, margin: float
) -> dict[str, np.ndarray]:
    """Per-draw decisions of a top-``n`` rule (plurality, seats, top two)."""
    d = votes.shape[0]
    winners = np.zeros(votes.shape, dtype=bool)
    rows = np.arange(d)[:, None]
    winners[rows, order[:, :n]] = True
    if n >= int(eligible.sum()):  # uncontested: every candidate wins
        none = np.zeros(d, dtype=bool)
        return {"winners": winners, "tie": none, "close": none}
    sv = _sorted_votes(votes, order)
    tie, gap = _boundary(sv, votes.sum(axis=1), n)
    return {"winners": winners, "tie": tie, "close": gap <= margin}


@dataclass(frozen=True)
class Plurality(Rule):
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

    def __post_init__(self) -> None:
        _check_margin(self.recount_margin)

    def _decide(self, votes, order, eligible, forced, cands):  # type: ignore[no-untyped-def]
        return _top_n(votes, order, eligible, 1, self.recount_margin)

    def _summarise(self, votes, dec, cands):  # type: ignore[no-untyped-def]
        p = dec["winners"].mean(axis=0)
        rows = _rows("win", cands, p)
        rows += [("tie", "", dec["tie"].mean()), ("within_recount_margin", "", dec["close"].mean())]
        return p, rows


@dataclass(frozen=True)
class Seats(Rule):
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
    >>> res = Seats(2).evaluate(np.array([[50, 30, 20], [50, 20, 30]]), ("A", "B", "C"), np.random.default_rng(0))
    >>> res.win_probability.to_dict()
    {'A': 1.0, 'B': 0.5, 'C': 0.5}
    """

    n: int = 1
    recount_margin: float = _DEFAULT_RECOUNT_MARGIN
    name: ClassVar[str] = "seats"
    win_label: ClassVar[str] = "P(seat)"

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, (int, np.integer)) or self.n < 1:
            raise ForecastInputError(f"seats must be a whole number >= 1, got {self.n!r}")
        _check_margin(self.recount_margin)

    def _min_eligible(self) -> int:
        return int(self.n)

    def _max_called(self) -> int:
        return int(self.n)

    def _decide(self, votes, order, eligible, forced, cands):  # type: ignore[no-untyped-def]
        return _top_n(votes, order, eligible, int(self.n), self.recount_margin)

    def _summarise(self, votes, dec, cands):  # type: ignore[no-untyped-def]
        p = dec["winners"].mean(axis=0)
        rows = _rows("seat", cands, p)
        rows += [("tie", "", dec["tie"].mean()), ("within_recount_margin", "", dec["close"].mean())]
        return p, rows


@dataclass(frozen=True)
class TopTwo(Rule):
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

    def __post_init__(self) -> None:
        _check_margin(self.recount_margin)

    def _min_eligible(self) -> int:
        return 2

    def _max_called(self) -> int:
        return 2

    def _decide(self, votes, order, eligible, forced, cands):  # type: ignore[no-untyped-def]
        return _top_n(votes, order, eligible, 2, self.recount_margin)

    def _summarise(self, votes, dec, cands):  # type: ignore[no-untyped-def]
        p = dec["winners"].mean(axis=0)
        rows = _rows("advance", cands, p)
        rows += _pairings(dec["winners"], cands, "pairing")
        rows += [("tie", "", dec["tie"].mean()), ("within_recount_margin", "", dec["close"].mean())]
        return p, rows


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
        a :class:`fractions.Fraction` or a string such as ``"2/3"``).
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
        _check_margin(self.recount_margin)

    def _min_eligible(self) -> int:
        return 2

    def _check_call_size(self, n: int) -> None:
        if n > 2:
            raise ForecastInputError(
                f"called= for a majority rule is one name (the outright winner) or two (the runoff pair), got {n}"
            )

    def _decide(self, votes, order, eligible, forced, cands):  # type: ignore[no-untyped-def]
        thr = Fraction(self.threshold)
        d, k = votes.shape
        total = votes.sum(axis=1)
        sv = _sorted_votes(votes, order)
        above, at = _above(sv[:, 0], total, thr)
        if forced is not None:
            outright = np.full(d, len(forced) == 1)
        else:
            outright = above
        rows = np.arange(d)
        winners = np.zeros((d, k), dtype=bool)
        winners[rows[outright], order[outright, 0]] = True
        finalists = np.zeros((d, k), dtype=bool)
        run = ~outright
        finalists[rows[run], order[run, 0]] = True
        finalists[rows[run], order[run, 1]] = True
        n_elig = int(eligible.sum())
        tie = np.zeros(d, dtype=bool)
        close = np.abs(_share(sv[:, 0], total) - float(thr)) <= self.recount_margin
        if n_elig >= 3:
            tie23, gap23 = _boundary(sv, total, 2)
            tie |= run & tie23
            close |= run & (gap23 <= self.recount_margin)
        if thr < Fraction(1, 2):
            tie12, _ = _boundary(sv, total, 1)
            tie |= outright & tie12
        return {
            "winners": winners,
            "finalists": finalists,
            "runoff": run,
            "tie": tie,
            "at": at,
            "close": close,
        }

    def _matches_call(self, dec, called):  # type: ignore[no-untyped-def]
        if len(called) == 1:
            return dec["winners"][:, called[0]]
        return dec["runoff"] & dec["finalists"][:, list(called)].all(axis=1)

    def _summarise(self, votes, dec, cands):  # type: ignore[no-untyped-def]
        p = dec["winners"].mean(axis=0)
        rows = _rows("win_outright", cands, p)
        rows.append(("runoff", "", dec["runoff"].mean()))
        rows += _rows("reach_runoff", cands, dec["finalists"].mean(axis=0))
        rows += _pairings(dec["finalists"], cands, "runoff_pairing")
        rows += [
            ("tie", "", dec["tie"].mean()),
            ("at_threshold", "", dec["at"].mean()),
            ("within_recount_margin", "", dec["close"].mean()),
        ]
        return p, rows


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
        _check_margin(self.recount_margin)
        if self.yes == self.no:
            raise ForecastInputError(f"yes= and no= must be different columns, got {self.yes!r} twice")

    def _check_candidates(self, cands: tuple[str, ...], eligible: np.ndarray) -> None:
        if set(cands) != {self.yes, self.no}:
            raise ForecastInputError(
                f"the threshold rule needs exactly the columns {self.yes!r} and {self.no!r} (set yes=/no= to "
                f"your column names), got {list(cands)}"
            )

    def _decide(self, votes, order, eligible, forced, cands):  # type: ignore[no-untyped-def]
        cands_idx = (cands.index(self.yes), cands.index(self.no))
        y, n = votes[:, cands_idx[0]], votes[:, cands_idx[1]]
        share = Fraction(self.share)
        above, at = _above(y, y + n, share)
        at_passes = self.pass_at_line if self.pass_at_line is not None else share != Fraction(1, 2)
        passes = above | (at & at_passes)
        if forced is not None:
            passes = np.full(votes.shape[0], forced[0] == cands_idx[0])
        winners = np.zeros(votes.shape, dtype=bool)
        winners[:, cands_idx[0]] = passes
        winners[:, cands_idx[1]] = ~passes
        close = np.abs(_share(y, y + n) - float(share)) <= self.recount_margin
        return {"winners": winners, "at": at, "close": close}

    def _summarise(self, votes, dec, cands):  # type: ignore[no-untyped-def]
        p = dec["winners"].mean(axis=0)
        rows = [("pass", self.yes, p[cands.index(self.yes)]), ("fail", self.no, p[cands.index(self.no)])]
        rows += [("at_threshold", "", dec["at"].mean()), ("within_recount_margin", "", dec["close"].mean())]
        return p, rows


# ---------------------------------------------------------------------------
# Shortcuts and helpers
# ---------------------------------------------------------------------------
_SHORTCUT = re.compile(r"^\s*([a-z_\- ]+?)\s*(?::\s*(.+?))?\s*$")


def resolve_rule(rule: str | Rule | None, *, seats: int | None = None) -> Rule:
    """Turn a rule or its string shortcut into a :class:`Rule`.

    Parameters
    ----------
    rule
        A :class:`Rule`, ``None`` (plurality) or a shortcut:

        ====================  ================================================
        ``"plurality"``       :class:`Plurality` (the default)
        ``"majority"``        :class:`Majority` at 50%; ``"majority:0.4"``
                              for another threshold
        ``"top_two"``         :class:`TopTwo` (also ``"top-two"``)
        ``"seats:3"``         :class:`Seats` with 3 seats
        ``"threshold"``       :class:`Threshold` at 50% on Yes/No columns;
                              ``"threshold:0.55"``, ``"threshold:2/3"``
        ====================  ================================================
    seats
        Number of seats of a multi-seat contest (``forecast(..., seats=3)``);
        only with the plurality/seats rule.  ``seats=1`` is plurality.

    Returns
    -------
    Rule

    Examples
    --------
    >>> resolve_rule("threshold:2/3")
    Threshold(share=Fraction(2, 3), yes='Yes', no='No', pass_at_line=None, recount_margin=0.005)
    >>> resolve_rule(None, seats=3).n
    3
    """
    if seats is not None:
        if isinstance(seats, bool) or not isinstance(seats, (int, np.integer)) or seats < 1:
            raise ForecastInputError(f"seats= must be a whole number >= 1, got {seats!r}")
        base = resolve_rule(rule)
        if isinstance(base, Plurality) and (rule is None or isinstance(rule, str)):
            return Plurality() if seats == 1 else Seats(int(seats))
        if isinstance(base, Seats) and base.n == seats:
            return base
        if isinstance(base, Plurality) and seats == 1:
            return base
        raise ForecastInputError(
            f"seats={seats} goes with the plurality rule (top-{seats} win); it conflicts with rule={rule!r}"
        )
    if rule is None:
        return Plurality()
    if isinstance(rule, Rule):
        return rule
    if not isinstance(rule, str):
        raise ForecastInputError(
            f"rule must be a racecast.rules.Rule or a string shortcut, got {type(rule).__name__}"
        )
    m = _SHORTCUT.match(rule.lower())
    if m is None:
        raise ForecastInputError(_unknown(rule))
    kind, arg = m.group(1).replace("-", "_").replace(" ", "_"), m.group(2)
    if kind == "plurality" and arg is None:
        return Plurality()
    if kind == "majority":
        return Majority() if arg is None else Majority(threshold=arg)
    if kind in ("top_two", "toptwo") and arg is None:
        return TopTwo()
    if kind == "seats" and arg is not None:
        try:
            n = int(arg)
        except ValueError:
            raise ForecastInputError(f"rule {rule!r}: the number of seats must be a whole number") from None
        return Seats(n)
    if kind == "threshold":
        return Threshold() if arg is None else Threshold(share=arg)
    raise ForecastInputError(_unknown(rule))


def _unknown(rule: str) -> str:
    return (
        f"unknown rule {rule!r}; use 'plurality', 'majority' (or 'majority:0.4'), 'top_two', 'seats:3', "
        "'threshold' (or 'threshold:2/3'), or a racecast.rules.Rule"
    )


def lead_change_probability(
    current_votes: pd.Series | np.ndarray | Iterable[float],
    final_votes: np.ndarray,
    candidates: Iterable[str] | None = None,
) -> float:
    """P(the candidate leading now does not finish first).

    The current leader is the candidate with the most votes in
    ``current_votes`` (when several are tied for the lead, the lead is theirs
    together).  In each draw of ``final_votes`` the first-placed candidate is
    found with ties split evenly, exactly as the coin flip of :class:`Plurality`
    would in expectation, so the result needs no random numbers.  "First" means
    most votes whatever the contest rule (for a majority rule: who tops the
    first round).  Pooled blocs are never leaders.

    Parameters
    ----------
    current_votes
        Votes counted so far per candidate (a Series indexed by candidate, or an
        array in the column order of ``final_votes``).
    final_votes
        ``(draws, candidates)`` simulated final votes.
    candidates
        Names of the columns (taken from the Series index when omitted).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> lead_change_probability([133_059, 116_688], np.array([[240e3, 250e3], [260e3, 250e3], [255e3, 255e3]]))
    0.5
    """
    if candidates is None and isinstance(current_votes, pd.Series):
        candidates = [str(c) for c in current_votes.index]
    cur = np.asarray(current_votes, dtype=np.float64).ravel()
    votes, cands = _check_votes(
        final_votes, candidates if candidates is not None else [str(i) for i in range(cur.size)]
    )
    if cur.size != votes.shape[1] or not np.isfinite(cur).all():
        raise ForecastInputError(
            f"current votes must be finite, one per candidate ({votes.shape[1]}), got {cur.size} values"
        )
    eligible = np.array([not is_pooled(c) for c in cands])
    cur_e = np.where(eligible, cur, -np.inf)
    leaders = eligible & (cur_e == cur_e.max())
    fin = np.where(eligible[None, :], votes, -np.inf)
    top = fin == fin.max(axis=1, keepdims=True)
    p_keep = (top & leaders[None, :]).sum(axis=1) / top.sum(axis=1)
    return float(1.0 - p_keep.mean())
