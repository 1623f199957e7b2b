"""The batches a count's model learns from: the votes added by each release, corrections merged.

The rule is documented on [`Count.batches`][racecast.Count.batches]; it lives here, on
plain arrays, so that ``count.py`` stays the data and its views.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["release_batches"]


def release_batches(
    votes: np.ndarray, types: Sequence[str], ballots: np.ndarray, candidates: Sequence[str]
) -> pd.DataFrame:
    """The batches of cumulative ``(n, K)`` ``votes``, as [`Count.batches`][racecast.Count.batches]."""
    rows: list[dict[str, Any]] = []
    starts: list[int] = []
    prev_votes = np.zeros(votes.shape[1], dtype=np.int64)
    for i in range(votes.shape[0]):
        inc = votes[i] - prev_votes
        first = i
        while (inc < 0).any() and rows:
            merged = rows.pop()
            first = starts.pop()
            inc = inc + merged["_votes"]
        starts.append(first)
        rows.append({"first": first, "last": i, "_votes": inc})
        prev_votes = votes[i]
    out = []
    for r in rows:
        inc = r["_votes"]
        if inc.sum() <= 0:
            continue
        rec = {"first": r["first"], "last": r["last"], "batch_type": types[r["first"]]}
        rec["ballots"] = _ballots_added(ballots, r["first"], r["last"])
        for c, v in zip(candidates, np.maximum(inc, 0), strict=True):
            rec[c] = int(v)
        out.append(rec)
    return pd.DataFrame(out, columns=["first", "last", "batch_type", "ballots", *candidates])


def _ballots_added(b: np.ndarray, first: int, last: int) -> float:
    if not np.isfinite(b[last]):
        return float("nan")
    before = 0.0 if first == 0 else b[first - 1]
    return float(b[last] - before) if np.isfinite(before) else float("nan")
