"""Learning a [`Prior`][racecast.Prior] from history: how batch types leaned in completed counts.

[`prior_from`][racecast.prior_from] measures, for each batch type `t` of a
completed count and each pair of *sides* `a, b` (candidates mapped between
elections with `sides=`), the log-odds of `a` vs `b` among all of the type's
counted votes, relative to the contest centre:

    Delta_t(a, b) = L_t(a, b) - (1/T) * sum_t' L_t'(a, b),
    L_t(a, b)     = log((v_ta + 1/2) / (v_tb + 1/2)),

where `v_ta` sums the votes of the candidates mapped to side `a` in the type's
batches and the centre is the unweighted mean over the `T` types the count has.
This is the quantity the model's hierarchy calls `alpha_t - mu`.

Its sampling sd (delta method, Poisson votes) is tiny for real contests; what
makes the prior uncertain is that the next election is a different election.
That change is the **inflation**: the sd (log-odds) of how much a type's lean may
move between a history count and the contest being forecast, added in
quadrature.  With several history counts they are pooled as exchangeable
elections (random effects with between-election sd `inflation / sqrt(2)`): the
prior sd never falls below `inflation / sqrt(2)` however many counts are given,
and equals `sqrt(sampling_sd^2 + inflation^2)` for one count.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from .count import Count
from .errors import ForecastInputError, HistoryWarning
from .outstanding import resolve_outstanding
from .prior import DEFAULT_INFLATION, Prior

__all__ = ["prior_from"]


class _Measured(NamedTuple):
    """What one history count says: votes and shifts by (type, side)."""

    source: Count
    types: list[str]
    sides: list[str]
    votes: np.ndarray
    shift: np.ndarray
    sampling_sd: np.ndarray
    left_out: list[str]


def _type_side_votes(
    count: Count, side_of: Mapping[str, str], type_map: Mapping[str, str] | None
) -> tuple[list[str], list[str], np.ndarray, list[str]]:
    """Votes by (type, side) summed over the count's batches; candidates without a side are left out."""
    batches = count.batches()
    sides = list(dict.fromkeys(side_of[c] for c in count.candidates if c in side_of))
    left_out = [c for c in count.candidates if c not in side_of]
    types: list[str] = []
    rows: dict[str, np.ndarray] = {}
    for _, b in batches.iterrows():
        t = str(b["batch_type"])
        if type_map is not None:
            t = type_map.get(t, t)
        if t not in rows:
            types.append(t)
            rows[t] = np.zeros(len(sides))
        for c in count.candidates:
            if c in side_of:
                rows[t][sides.index(side_of[c])] += float(b[c])
    votes = np.array([rows[t] for t in types]) if types else np.zeros((0, len(sides)))
    return types, sides, votes, left_out


def _shifts(votes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shifts vs the last side relative to the type mean, and their sampling sd per type.

    `votes` is `(T, S)`.  Returns `shift (T, S)` (last column 0) and the
    largest sampling sd over pairs of sides for each type `(T,)` (delta
    method, independent Poisson votes: `var log(v + 1/2) = 1/(v + 1/2)`).
    """
    t_n, s_n = votes.shape
    logv = np.log(votes + 0.5)
    var = 1.0 / (votes + 0.5)
    rel = logv - logv[:, -1:]
    shift = rel - rel.mean(axis=0, keepdims=True)
    # Var[(L_ta - L_tb) - mean_t'(L_t'a - L_t'b)]
    #   = sum_{s in a,b} [(1-1/T)^2 v_ts^-1 + sum_{t'!=t} T^-2 v_t's^-1]
    own = (1.0 - 1.0 / t_n) ** 2 * var
    others = (var.sum(axis=0, keepdims=True) - var) / t_n**2
    per_side = own + others  # (T, S)
    pair = per_side[:, :, None] + per_side[:, None, :]
    off = ~np.eye(s_n, dtype=bool)
    samp_sd = np.sqrt(pair[:, off].max(axis=1))
    return shift, samp_sd


def _check_counts(counts: Count | Sequence[Count]) -> list[Count]:
    if isinstance(counts, Count):
        counts = [counts]
    counts = list(counts)
    if not counts:
        raise ForecastInputError("prior_from needs at least one completed count")
    for c in counts:
        if not isinstance(c, Count):
            raise ForecastInputError(f"prior_from needs racecast.Count objects, got {type(c).__name__}")
    return counts


def _check_inflation(inflation: Any) -> float:
    try:
        inflation = float(inflation)
    except (TypeError, ValueError):
        raise ForecastInputError(f"inflation must be a number > 0, got {inflation!r}") from None
    if not (math.isfinite(inflation) and inflation > 0):
        raise ForecastInputError(
            f"inflation must be a finite number > 0, got {inflation!r}: a lean learned in another election "
            "is never exact, and a zero inflation would let history override the new count"
        )
    return inflation


def _type_map(types: Sequence[str] | Mapping[str, str] | None) -> dict[str, str] | None:
    if types is None:
        return None
    if isinstance(types, Mapping):
        return {str(k): str(v) for k, v in types.items()}
    if isinstance(types, str):
        raise ForecastInputError(f"types must be a list of batch types, got the string {types!r}")
    return {str(t): str(t) for t in types}


def _measure(c: Count, sides: Mapping[str, str] | None, type_map: Mapping[str, str] | None) -> _Measured:
    """One history count's votes and shifts by (type, side); warns when it is not complete."""
    side_of = dict(sides) if sides is not None else {name: name for name in c.candidates}
    reported = bool(c.latest_outstanding()) or bool(np.isfinite(c.outstanding_total).any())
    left = resolve_outstanding(c).amounts if reported else {}
    outstanding = {t: round(a) for t, a in left.items() if a > 0}
    if outstanding:
        warnings.warn(
            f"{c.name}: still reports outstanding ballots at its last release ({outstanding}); a prior "
            "learned from an incomplete count misses the ballots counted last",
            HistoryWarning,
            stacklevel=3,
        )
    t_list, s_list, votes, left_out = _type_side_votes(c, side_of, type_map)
    if len(s_list) < 2:
        raise ForecastInputError(
            f"{c.name}: needs at least two sides with votes, found {s_list}; pass sides= mapping its "
            f"candidates {list(c.candidates)}"
        )
    if len(t_list) < 2:
        raise ForecastInputError(
            f"{c.name}: has counted votes of {len(t_list)} batch type(s) {t_list}; a type's lean is "
            "measured relative to the other types, so at least two are needed"
        )
    shift, samp_sd = _shifts(votes)
    return _Measured(c, t_list, s_list, votes, shift, samp_sd, left_out)


def _history_entry(m: _Measured, all_sides: list[str]) -> dict[str, Any]:
    """What one history count said, with its sides in the prior's order."""
    order = [m.sides.index(s) for s in all_sides]
    shift = m.shift[:, order] - m.shift[:, order][:, -1:]
    votes = m.votes[:, order]
    return {
        "count": m.source.name.replace("\\", "/").rsplit("/", 1)[-1],
        "releases": len(m.source),
        "candidates_left_out": m.left_out,
        "votes": {t: {s: int(votes[i, j]) for j, s in enumerate(all_sides)} for i, t in enumerate(m.types)},
        "shift": {t: {s: float(shift[i, j]) for j, s in enumerate(all_sides)} for i, t in enumerate(m.types)},
        "sampling_sd": {t: float(m.sampling_sd[i]) for i, t in enumerate(m.types)},
    }


def _pool(
    history: list[dict[str, Any]], all_types: list[str], all_sides: list[str], inflation: float
) -> tuple[np.ndarray, np.ndarray]:
    """Precision-weighted mean shift and sd per type over the history counts (random effects)."""
    tau2 = inflation**2 / 2.0  # between-election variance of one election's lean around the common lean
    shift_out = np.zeros((len(all_types), len(all_sides)))
    sd_out = np.zeros(len(all_types))
    for i, t in enumerate(all_types):
        w_sum, acc = 0.0, np.zeros(len(all_sides))
        for h in history:
            if t in h["shift"]:
                w = 1.0 / (h["sampling_sd"][t] ** 2 + tau2)
                w_sum += w
                acc += w * np.array([h["shift"][t][s] for s in all_sides])
        shift_out[i] = acc / w_sum
        sd_out[i] = math.sqrt(1.0 / w_sum + tau2)
    return shift_out, sd_out


def prior_from(
    counts: Count | Sequence[Count],
    *,
    sides: Mapping[str, str] | None = None,
    types: Sequence[str] | Mapping[str, str] | None = None,
    inflation: float = DEFAULT_INFLATION,
) -> Prior:
    """Learn how batch types lean from completed counts.

    Parameters
    ----------
    counts
        One or more completed counts (every release to the end).  Each needs at
        least two batch types with counted votes: a type's lean is measured
        relative to the others.
    sides
        Candidate -> side, mapping candidates between elections, e.g.
        `{"Karen Bass": "progressive", "Rick Caruso": "centrist"}`.  List the
        candidates of the history counts *and* of the contest you will forecast
        (names that appear in only one are fine).  Candidates of a history count
        without a side are left out of its contrasts (their votes are in no
        side); several candidates on one side are summed.  Default: every
        candidate is its own side (the same names in every count).
    types
        Batch types the prior covers: a list keeps only those; a mapping
        `{history_type: type}` keeps and renames them (several history types
        mapped to one name are pooled into one type).  The contest centre is
        always the mean over *every* type a history count has (after renaming),
        so covering fewer types does not change what a shift means.  Default:
        every type counted in the history.
    inflation
        Between-election change of a type's lean, sd in log-odds (> 0; default
        [`DEFAULT_INFLATION`][racecast.prior.DEFAULT_INFLATION] = 0.25, about 6
        share points near 50%).  It is what keeps history from overriding the
        new count (see "Priors from history" on the model page).

    Returns
    -------
    Prior
        The pooled prior, with what each history count said in its `history`.

    Raises
    ------
    ForecastInputError
        No counts, fewer than two types or sides, counts with different sides,
        or an invalid `inflation`.

    Warns
    -----
    HistoryWarning
        A history count still reports outstanding ballots at its last release
        (it may not be complete).

    Examples
    --------
    >>> import racecast
    >>> primary = racecast.read_count(racecast.example_path("la_mayor_2022_primary"))
    >>> prior = racecast.prior_from(primary, sides={"Karen Bass": "progressive", "Rick Caruso": "centrist"})
    >>> tab = prior.log_odds_shift("progressive", "centrist")
    >>> [round(float(v), 3) for v in tab["mean"]], [round(float(v), 3) for v in tab["sd"]]
    ([-0.309, 0.309], [0.25, 0.25])
    """
    counts = _check_counts(counts)
    inflation = _check_inflation(inflation)
    type_map = _type_map(types)
    keep = None if type_map is None else set(type_map.values())
    measured = []
    for c in counts:  # a loop, not a comprehension, so that the warning points at the caller
        measured.append(_measure(c, sides, type_map))

    side_sets = {tuple(m.sides) for m in measured}
    if len({frozenset(s) for s in side_sets}) > 1:
        raise ForecastInputError(
            f"the history counts have different sides {sorted(side_sets)}; map their candidates to common "
            "sides with sides={candidate: side}"
        )
    all_sides = list(measured[0].sides)
    all_types = [t for t in dict.fromkeys(t for m in measured for t in m.types) if keep is None or t in keep]
    if not all_types:
        raise ForecastInputError(
            f"none of the requested types {sorted(keep or [])} was counted in the history; it has "
            f"{sorted({t for m in measured for t in m.types})}"
        )
    history = [_history_entry(m, all_sides) for m in measured]
    shift_out, sd_out = _pool(history, all_types, all_sides, inflation)
    mapping = dict(sides) if sides is not None else {}
    for m in measured:
        for name in m.source.candidates:
            mapping.setdefault(name, name)
    return Prior(
        types=tuple(all_types),
        sides=tuple(all_sides),
        shift=shift_out,
        sd=sd_out,
        candidate_sides=mapping,
        inflation=inflation,
        history=tuple(history),
    )
