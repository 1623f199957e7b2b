"""Batch size within a place: how much a batch's extra variance shrinks with its size.

``Priors.batch_size_floor`` (``floor``) scales batch ``k``'s variance ``sigma_batch^2`` by
``floor + (1 - floor) * n_ref / n_k``, ``n_ref`` the median counted batch of its type and
place (the count's ``place`` column): the part ``floor`` does not shrink with size (the
place's own lean, the day), the rest does, as sampling heterogeneous precincts would.

Edges: a batch with no place, or alone in its type and place, keeps ``sigma_batch^2``, and
so does every simulated batch (the remainder is simulated in batches of the type's typical
size).  Relative to the median of the batch's *own place*, never of the whole type: a large
county's large batches are not made authoritative about the others (over the whole type,
the NYT 2020 feed's first statewide snapshots became authoritative and two confident wrong
calls followed, ``benchmarks/batch_size_place.py``).  What the feed says and why the default
stays 1: ``docs/model.md``, *Batch size and place*.  numpy only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from ..count import Count

__all__ = ["batch_places", "batch_size_scale"]


def batch_places(count: Count, batches: pd.DataFrame) -> list[str | None]:
    """The place of each batch: its releases' ``place`` when they all name the same one, else ``None``.

    A blank place, or releases of one merged batch (a correction merged into the batch
    before it) naming different places, give ``None``.
    """
    if "place" not in count.text.columns:
        return [None] * len(batches)
    raw = [str(p).strip() if isinstance(p, str) else "" for p in count.text["place"]]
    out: list[str | None] = []
    for first, last in zip(batches["first"], batches["last"], strict=True):
        names = set(raw[int(first) : int(last) + 1])
        out.append(names.pop() if len(names) == 1 and "" not in names else None)
    return out


def batch_size_scale(
    votes: np.ndarray, type_idx: np.ndarray, places: list[str | None], floor: float
) -> np.ndarray | None:
    """Each batch's multiple of ``sigma_batch^2``: ``floor + (1 - floor) * n_ref / n``.

    ``floor`` is ``Priors.batch_size_floor``.

    ``n_ref`` is the median counted batch of the batch's type and place; a batch with no
    place or alone in its type and place gets 1.  ``None`` (all ones) when ``floor`` is 1
    or no batch shares its type and place with another.
    """
    if floor >= 1.0 or not any(p is not None for p in places):
        return None
    n = np.maximum(np.asarray(votes, float), 1.0)
    scale = np.ones(n.size)
    groups: dict[tuple[int, str], list[int]] = {}
    for k, (t, p) in enumerate(zip(type_idx, places, strict=True)):
        if p is not None:
            groups.setdefault((int(t), p), []).append(k)
    shared = False
    for rows in groups.values():
        if len(rows) >= 2:
            shared = True
            scale[rows] = floor + (1.0 - floor) * np.median(n[rows]) / n[rows]
    return scale if shared else None
