"""Clarity snapshots in time order, split into one release per vote type that added votes.

A Clarity snapshot gives every choice's votes by vote type, so what a snapshot
added since the previous one is known type by type.  Each batch type that
changed becomes its own release, all at the snapshot's time, in the order the
batch types first appear in the files (``unspecified`` last).  Used by
[`read_clarity`][racecast.read_clarity] (one contest) and
[`read_clarity_ballot`][racecast.read_clarity_ballot] (every contest: a type is
split out when it changed in any contest).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import CountFormatError, FeedWarning
from ._clarity_xml import UNSPECIFIED, ContestVotes, Snapshot, import_clarify, read_snapshot

#: Choices listed in a FeedWarning about votes in no vote type, before "and N more".
_SHOWN = 5


def read_snapshots(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *, ballots_counted: bool, who: str
) -> list[Snapshot]:
    """Every snapshot, in the order of its ``<Timestamp>`` (ties keep the order given)."""
    clarify = import_clarify()
    path_list = [Path(paths)] if isinstance(paths, (str, os.PathLike)) else [Path(p) for p in paths]
    if not path_list:
        raise CountFormatError(f"{who} needs at least one detail.xml snapshot")
    snaps = [read_snapshot(clarify, p, i, ballots_counted=ballots_counted) for i, p in enumerate(path_list)]
    snaps.sort(key=lambda s: (s.at, s.order))
    return snaps


def check_same_choices(contest: str, snaps: Sequence[Snapshot], votes: Sequence[ContestVotes]) -> None:
    """Every snapshot lists the contest's choices of the first one, in the same order."""
    first = list(votes[0].votes)
    for s, v in zip(snaps[1:], votes[1:], strict=True):
        if list(v.votes) != first:
            raise CountFormatError(
                f"contest {contest!r} has choices {list(v.votes)} but the first snapshot "
                f"({snaps[0].path}) has {first}; every snapshot must list the same candidates",
                source=s.path,
            )


def warn_unattributed(snaps: Sequence[Snapshot], contests: Mapping[str, Sequence[ContestVotes]]) -> None:
    """One [`FeedWarning`][racecast.errors.FeedWarning] naming the votes that are in no vote type.

    It names the latest snapshot that has such votes, and each contest, choice
    and amount in it (the first few, then how many more).
    """
    having = [i for i in range(len(snaps)) if any(v[i].unattributed for v in contests.values())]
    if not having:
        return
    last = having[-1]
    items = [
        f"contest {c!r}, choice {name!r}: totalVotes {total:,}, vote types {summed:,}, "
        f"{UNSPECIFIED} {total - summed:,}"
        for c, v in contests.items()
        for name, (total, summed) in v[last].unattributed.items()
    ]
    shown = "; ".join(items[:_SHOWN]) + (f"; and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")
    when = f" ({len(having)} of {len(snaps)} snapshots have such votes)" if len(snaps) > 1 else ""
    warnings.warn(
        f"{snaps[last].path}: {len(items)} choice(s) have a totalVotes above the sum of their vote types "
        f"(some counties report no split){when}; the difference is kept as batch type {UNSPECIFIED!r}, "
        f"nothing is dropped. {shown}",
        FeedWarning,
        stacklevel=3,
    )


def type_order(contests: Mapping[str, Sequence[ContestVotes]]) -> list[str]:
    """Batch types by first appearance (snapshot, contest, file order), ``unspecified`` last."""
    seen: dict[str, None] = {}
    n = len(next(iter(contests.values()), ()))
    for i in range(n):
        for v in contests.values():
            seen.update(dict.fromkeys(v[i].by_type))
    order = [t for t in seen if t != UNSPECIFIED]
    return [*order, UNSPECIFIED] if UNSPECIFIED in seen else order


@dataclass(frozen=True)
class Release:
    """One release: its snapshot, batch type, note, ballots and each contest's cumulative votes."""

    snapshot: Snapshot
    batch_type: str
    note: str
    ballots: int | None
    votes: dict[str, np.ndarray]


def _by_type(v: ContestVotes, candidates: list[str]) -> dict[str, np.ndarray]:
    return {t: np.array([n[c] for c in candidates], dtype=np.int64) for t, n in v.by_type.items()}


def split_releases(
    snaps: Sequence[Snapshot], contests: Mapping[str, Sequence[ContestVotes]]
) -> list[Release]:
    """The releases of time-ordered snapshots: one per batch type that changed in a snapshot.

    A snapshot where nothing changed is one release.  A release whose batch
    type added no votes overall (only corrections) takes the type of the
    nearest release before it that added votes, else after it, else ``mixed``.
    Only the last release of a snapshot carries its ``ballotsCast``.
    """
    order = type_order(contests)
    cands = {c: list(v[0].votes) for c, v in contests.items()}
    zero = {c: np.zeros(len(k), dtype=np.int64) for c, k in cands.items()}
    prev: dict[str, dict[str, np.ndarray]] = {c: {} for c in contests}
    running = {c: z.copy() for c, z in zero.items()}
    out: list[tuple[Snapshot, str | None, str, int | None, dict[str, np.ndarray]]] = []
    for i, s in enumerate(snaps):
        cur = {c: _by_type(v[i], cands[c]) for c, v in contests.items()}
        delta = {t: {c: cur[c].get(t, zero[c]) - prev[c].get(t, zero[c]) for c in contests} for t in order}
        added = {t: int(sum(d.sum() for d in delta[t].values())) for t in order}
        changed = [t for t in order if any(d.any() for d in delta[t].values())]
        note = "votes added by type: " + (
            ", ".join(f"{t} {added[t]:+,}" for t in order if added[t] != 0) or "none"
        )
        if not changed:
            out.append((s, None, note, s.ballots, {c: r.copy() for c, r in running.items()}))
        for j, t in enumerate(changed):
            running = {c: running[c] + delta[t][c] for c in contests}
            part = f" (release {j + 1} of {len(changed)} of this snapshot: {t})" if len(changed) > 1 else ""
            ballots = s.ballots if j == len(changed) - 1 else None
            out.append((s, t if added[t] > 0 else None, note + part, ballots, dict(running)))
        prev = cur
    types = _fill_types([r[1] for r in out])
    return [Release(s, bt, note, b, v) for (s, _, note, b, v), bt in zip(out, types, strict=True)]


def _fill_types(picked: list[str | None]) -> list[str]:
    """Releases that added no votes take the type of the nearest release before (else after) that did."""
    filled: list[str] = []
    for i, own in enumerate(picked):
        before = next((x for x in reversed(picked[:i]) if x is not None), None)
        after = next((x for x in picked[i + 1 :] if x is not None), None)
        filled.append(own or before or after or "mixed")
    return filled
