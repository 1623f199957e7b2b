"""Pooling small candidates into one "Other (n candidates)" column.

A crowded contest (a primary with a dozen names, write-ins) costs model time
for candidates who cannot matter.
[`pool_candidates`][racecast.pooling.pool_candidates] merges every candidate
below a share of the votes counted so far into a single column labelled
``"Other (n candidates)"``.  It is a pure function of a
[`Count`][racecast.Count]: the original count is not changed, and
[`pooling_plan`][racecast.pooling.pooling_plan] says beforehand which names
will be merged.

The label is also a declaration.  A column whose name matches
``Other (<n> candidates)`` (see [`is_pooled`][racecast.pooling.is_pooled]) is
a bloc, not a candidate: its votes count towards every total and share, but
contest rules ([`racecast.rules`][racecast.rules]) never let it take a winning
place.  A count file can therefore ship a pre-pooled column under that name.
Write-ins are ordinary candidates; pool them like any other.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection

import numpy as np

from .count import Count
from .errors import ForecastInputError

__all__ = ["is_pooled", "pool_candidates", "pooled_label", "pooled_size", "pooling_plan"]

_POOLED_RE = re.compile(r"^Other \((\d+) candidates\)$")


def pooled_label(n: int) -> str:
    """The label of a bloc pooling ``n`` candidates.

    Examples
    --------
    >>> pooled_label(10)
    'Other (10 candidates)'
    """
    if n < 2:
        raise ValueError(f"a pooled bloc holds at least two candidates, got {n}")
    return f"Other ({n} candidates)"


def is_pooled(name: str) -> bool:
    """Whether a column name declares a pooled bloc (``"Other (<n> candidates)"``).

    Examples
    --------
    >>> is_pooled("Other (3 candidates)"), is_pooled("Other"), is_pooled("Karen Bass")
    (True, False, False)
    """
    return _POOLED_RE.match(name) is not None


def pooled_size(name: str) -> int:
    """How many candidates a column stands for: ``n`` for a pooled bloc, else 1.

    Examples
    --------
    >>> pooled_size("Other (3 candidates)"), pooled_size("Karen Bass")
    (3, 1)
    """
    m = _POOLED_RE.match(name)
    return int(m.group(1)) if m else 1


def pooling_plan(count: Count, min_share: float, *, keep: Collection[str] = ()) -> tuple[str, ...]:
    """Names that [`pool_candidates`][racecast.pooling.pool_candidates] would merge, in count order.

    A candidate is pooled when its share of the votes counted so far (the last
    release's totals) is below ``min_share``.  An existing pooled bloc is merged
    with them.  Nothing is pooled when that would merge a single named candidate
    (it would only rename it).

    Parameters
    ----------
    count
        The count.
    min_share
        Share of the counted votes, in ``[0, 1)``; ``0`` pools nothing.
    keep
        Candidates never pooled whatever their share (e.g. a called candidate).

    Returns
    -------
    tuple of str
        The columns to merge (empty when nothing is pooled).

    Raises
    ------
    ForecastInputError
        ``min_share`` out of range, an unknown name in ``keep``, no votes counted
        yet, or fewer than two named candidates would be left.

    Examples
    --------
    >>> import numpy as np, pandas as pd, racecast
    >>> tidy = pd.DataFrame({"release": 1, "batch_type": "early_mail", "candidate": list("ABCD"),
    ...                      "votes": [500, 400, 60, 40]})
    >>> count = racecast.Count.from_frame(tidy, outstanding={"late_mail": 1000})
    >>> pooling_plan(count, 0.1)
    ('C', 'D')
    """
    if not (0.0 <= float(min_share) < 1.0) or not np.isfinite(min_share):
        raise ForecastInputError(f"min_share must be a share in [0, 1), got {min_share!r}")
    unknown = [k for k in keep if k not in count.candidates]
    if unknown:
        raise ForecastInputError(
            f"keep= names {unknown} are not candidates of the count; candidates: {list(count.candidates)}"
        )
    if min_share == 0:
        return ()
    totals = count.votes[-1].astype(np.float64)
    if totals.sum() <= 0:
        raise ForecastInputError(
            "min_share= needs votes counted: no candidate has any votes yet, so no share can be judged; "
            "drop min_share= until the first release with votes"
        )
    share = totals / totals.sum()
    below = [
        c
        for c, s in zip(count.candidates, share, strict=True)
        if (s < min_share or is_pooled(c)) and c not in keep
    ]
    named_below = [c for c in below if not is_pooled(c)]
    if not named_below or (len(named_below) == 1 and len(below) == 1):
        return ()
    left = [c for c in count.candidates if c not in below and not is_pooled(c)]
    if len(left) < 2:
        raise ForecastInputError(
            f"min_share={min_share} would pool all but {len(left)} named candidate(s) "
            f"({left}); a contest needs at least two, so lower min_share"
        )
    return tuple(below)


def pool_candidates(count: Count, min_share: float, *, keep: Collection[str] = ()) -> Count:
    """Merge candidates below ``min_share`` of the counted votes into one "Other" column.

    The merged column is labelled ``"Other (n candidates)"`` (``n`` counts the
    candidates inside, including those of an existing pooled bloc) and placed
    last; every other candidate keeps its column and order.  Votes are summed
    release by release, so totals, batches and corrections are unchanged.  The
    original count is not modified; when nothing qualifies it is returned as is.

    Parameters
    ----------
    count
        The count.
    min_share
        Share of the votes counted so far (last release) below which a candidate
        is pooled, in ``[0, 1)``.
    keep
        Candidates never pooled (e.g. a called winner, the Yes/No of a measure).

    Returns
    -------
    Count
        The count with the small candidates pooled.

    Examples
    --------
    >>> import pandas as pd, racecast
    >>> tidy = pd.DataFrame({"release": 1, "batch_type": "early_mail", "candidate": list("ABCD"),
    ...                      "votes": [500, 400, 60, 40]})
    >>> count = racecast.Count.from_frame(tidy, outstanding={"late_mail": 1000})
    >>> pool_candidates(count, 0.1).totals.to_dict()
    {'A': 500, 'B': 400, 'Other (2 candidates)': 100}
    """
    plan = pooling_plan(count, min_share, keep=keep)
    if not plan:
        return count
    cols = [j for j, c in enumerate(count.candidates) if c not in plan]
    pooled = [j for j, c in enumerate(count.candidates) if c in plan]
    label = pooled_label(sum(pooled_size(count.candidates[j]) for j in pooled))
    if label in count.candidates and label not in plan:
        raise ForecastInputError(
            f"the count already has a candidate named {label!r}; rename it before pooling"
        )
    votes = np.column_stack([count.votes[:, cols], count.votes[:, pooled].sum(axis=1)])
    return dataclasses.replace(
        count,
        candidates=(*(count.candidates[j] for j in cols), label),
        votes=votes.astype(count.votes.dtype),
    )
