"""The machinery every contest rule shares: ranking, called races, checks, closeness.

A rule subclasses [`Rule`][racecast.rules.Rule] and fills in three hooks:
``_decide`` (per-draw decisions, a dict of arrays whose first axis is the
draw), ``_matches_call`` (which draws agree with a called outcome) and
``_summarise`` (probabilities over a set of draws).
[`Rule.evaluate`][racecast.rules.Rule.evaluate] does the rest the same way
for every rule.
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import CalledRaceWarning, ForecastInputError
from ..pooling import is_pooled
from ._shares import _share
from .result import RuleResult

__all__ = ["Rule"]

#: Events that describe how close the result was, in table order; undefined
#: (NaN) when a call contradicts every draw and the outcome had to be imposed.
_CLOSENESS_EVENTS = ("tie", "at_threshold", "within_recount_margin")
_DEFAULT_RECOUNT_MARGIN = 0.005

#: One row of a rule's outcome table: ``(event, candidate or "", probability)``.
_Row = tuple[str, str, float]
#: Per-draw decisions of a rule: arrays whose first axis is the draw.
_Decisions = dict[str, np.ndarray]


def _check_margin(m: float) -> None:
    if not (np.isfinite(m) and 0 <= m < 1):
        raise ForecastInputError(
            f"recount_margin must be a share of the votes in [0, 1), e.g. 0.005, got {m!r}"
        )


def _check_votes(final_votes: Any, candidates: Iterable[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Validated ``(draws, candidates)`` float votes and the candidate names as strings."""
    cands = tuple(str(c) for c in candidates)
    v = np.asarray(final_votes)
    if v.ndim != 2 or v.shape[0] < 1 or v.shape[1] != len(cands):
        raise ForecastInputError(
            f"final votes must be a (draws, candidates) array with {len(cands)} columns and at least "
            f"one draw, got shape {v.shape}"
        )
    if not np.issubdtype(v.dtype, np.number) or np.issubdtype(v.dtype, np.complexfloating):
        raise ForecastInputError(f"final votes must be numbers, got dtype {v.dtype}")
    v = v.astype(np.float64)
    if not np.isfinite(v).all() or (v < 0).any():
        raise ForecastInputError("final votes must be finite and non-negative in every draw")
    if len(set(cands)) != len(cands):
        raise ForecastInputError(f"candidate names must be unique, got {list(cands)}")
    return v, cands


def _eligible(cands: tuple[str, ...]) -> np.ndarray:
    """Which columns may take a winning place (every one but the pooled blocs)."""
    return np.array([not is_pooled(c) for c in cands])


@dataclass(frozen=True)
class _Draws:
    """Simulated final votes ranked for a rule to decide on.

    Attributes
    ----------
    votes
        ``(draws, candidates)`` final votes.
    order
        Candidate indices per draw, best first (pooled blocs last).
    eligible
        Which columns may take a winning place.
    cands
        Candidate names, one per column.
    """

    votes: np.ndarray
    order: np.ndarray
    eligible: np.ndarray
    cands: tuple[str, ...]

    @cached_property
    def total(self) -> np.ndarray:
        """Votes per draw, all columns."""
        return self.votes.sum(axis=1)

    @cached_property
    def sorted_votes(self) -> np.ndarray:
        """Votes per draw in ranking order, best first."""
        return np.take_along_axis(self.votes, self.order, axis=1)

    def boundary(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact tie and margin (share of the total) between ranks ``r - 1`` and ``r``."""
        sv = self.sorted_votes
        return sv[:, r - 1] == sv[:, r], _share(sv[:, r - 1] - sv[:, r], self.total)


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


def _rows(event: str, names: Iterable[str], probs: Iterable[float]) -> list[_Row]:
    return [(event, n, float(p)) for n, p in zip(names, probs, strict=True)]


def _closeness_rows(dec: _Decisions) -> list[_Row]:
    """Contest-level rows for the closeness events the decisions define, in table order."""
    return [(event, "", dec[event].mean()) for event in _CLOSENESS_EVENTS if event in dec]


def _pairings(members: np.ndarray, cands: tuple[str, ...], event: str) -> list[_Row]:
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


class Rule:
    """Base class of contest rules.

    Rules are frozen dataclasses with a ``recount_margin`` field.  Subclasses
    implement ``_decide`` (per-draw decisions, including the closeness events
    they define), ``_matches_call`` (which draws agree with a called outcome)
    and ``_summarise`` (the rule's own probabilities over a set of draws);
    [`evaluate`][racecast.rules.Rule.evaluate] does the rest the same way for
    every rule.
    """

    name: ClassVar[str] = "rule"
    #: Column header for ``win_probability`` in summaries.
    win_label: ClassVar[str] = "P(win)"
    recount_margin: float

    def __post_init__(self) -> None:
        _check_margin(self.recount_margin)

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
            [`CalledRaceWarning`][racecast.errors.CalledRaceWarning] is issued.

        Returns
        -------
        RuleResult

        Examples
        --------
        >>> import numpy as np
        >>> from racecast.rules import Plurality
        >>> votes = np.array([[60, 40], [45, 55], [70, 30], [52, 48]])
        >>> Plurality().evaluate(votes, ("A", "B"), np.random.default_rng(0)).win_probability["A"]
        np.float64(0.75)
        >>> Plurality().evaluate(votes, ("A", "B"), np.random.default_rng(0), called="B").win_probability["B"]
        np.float64(1.0)
        """
        votes, cands = _check_votes(final_votes, candidates)
        eligible = _eligible(cands)
        self._check_candidates(cands, eligible)
        called_idx = self._parse_called(called, cands, eligible)
        draws = _Draws(votes, _rank(votes, eligible, rng), eligible, cands)
        dec = self._decide(draws, None)
        keep = np.ones(votes.shape[0], dtype=bool)
        p_called = float("nan")
        imposed = False
        if called_idx:
            ok = self._matches_call(dec, called_idx)
            p_called = float(ok.mean())
            if ok.any():
                keep = ok
            else:
                warnings.warn(
                    f"the called outcome {[cands[i] for i in called_idx]} happens in none of the "
                    f"{votes.shape[0]} simulated draws; it is imposed on every draw, the closeness events "
                    "(tie, recount margin) are undefined (NaN) and vote-share intervals are not consistent "
                    "with the call. Check the name and the count.",
                    CalledRaceWarning,
                    stacklevel=2,
                )
                forced = dataclasses.replace(draws, order=_force_order(draws.order, called_idx))
                dec = self._decide(forced, called_idx)
                imposed = True
        sub = {k: a[keep] for k, a in dec.items()}
        win_p, rows = self._summarise(sub, cands)
        outcomes = pd.DataFrame(rows + _closeness_rows(sub), columns=["event", "candidate", "probability"])
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
        """Raise [`ForecastInputError`][racecast.errors.ForecastInputError] if the rule cannot apply.

        Lets [`forecast`][racecast.forecast] fail before fitting a model: wrong
        columns for a measure, more seats than candidates, an unknown called name.

        Examples
        --------
        >>> from racecast.rules import Seats, Threshold
        >>> Threshold().check(("Yes", "No"), called="Yes")
        >>> Seats(3).check(("A", "B"))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        racecast.errors.ForecastInputError: the seats rule needs at least 3 candidates that are not ...
        """
        cands = tuple(str(c) for c in candidates)
        eligible = _eligible(cands)
        self._check_candidates(cands, eligible)
        self._parse_called(called, cands, eligible)

    def _min_eligible(self) -> int:
        """Smallest number of candidates (not pooled blocs) the rule needs."""
        return 1

    def _check_candidates(self, cands: tuple[str, ...], eligible: np.ndarray) -> None:
        if eligible.sum() < self._min_eligible():
            raise ForecastInputError(
                f"the {self.name} rule needs at least {self._min_eligible()} candidates that are not pooled "
                f"blocs, got {[c for c, e in zip(cands, eligible, strict=True) if e]}"
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

    def _decide(self, draws: _Draws, forced: tuple[int, ...] | None) -> _Decisions:
        """Per-draw decisions: ``winners`` and the rule's closeness events, among others.

        ``forced`` is the called outcome when it is imposed on every draw
        (``draws.order`` then ranks the called candidates first).
        """
        raise NotImplementedError

    def _matches_call(self, dec: _Decisions, called: tuple[int, ...]) -> np.ndarray:
        return np.asarray(dec["winners"][:, list(called)].all(axis=1))

    def _summarise(self, dec: _Decisions, cands: tuple[str, ...]) -> tuple[np.ndarray, list[_Row]]:
        """``win_probability`` and the rule's outcome rows (closeness rows aside) over ``dec``'s draws."""
        raise NotImplementedError
