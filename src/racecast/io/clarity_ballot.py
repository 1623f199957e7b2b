"""Every contest of Clarity snapshots in a ballot: [`read_clarity_ballot`][racecast.read_clarity_ballot]."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..ballot import Ballot
from ..errors import CountFormatError
from ._clarity_releases import (
    Release,
    check_same_choices,
    read_snapshots,
    split_releases,
    warn_unattributed,
)
from ._clarity_xml import ContestVotes, Snapshot, clarity_type_map
from .ballot import _warn_corrections

__all__ = ["read_clarity_ballot"]


def read_clarity_ballot(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    type_map: Mapping[str, str] | None = None,
    ballots_counted: bool = True,
    name: str | None = None,
) -> Ballot:
    """Read every contest of a sequence of Clarity ENR ``detail.xml`` snapshots into a ballot.

    The snapshots are read as by [`read_clarity`][racecast.read_clarity]
    (time order, vote types mapped to batch types, votes in no vote type as
    batch type ``unspecified``, ``ballotsCast`` as ``ballots_counted``), for
    every contest at once, into a [`Ballot`][racecast.Ballot]:

    * **Releases** are the jurisdiction's: each snapshot gives one release per
      batch type that changed in *any* contest (in the order the batch types
      first appear in the files, ``unspecified`` last), so every contest holds
      a part of the same releases.  A contest that got no votes of a type in a
      snapshot keeps its votes in that type's release; so
      ``ballot.contest(name)`` may have more releases than
      ``read_clarity(paths, contest=name)``, never other totals.
    * **Contests** are the file's contests, in file order; every snapshot must
      list the same contests with the same choices.  ``vote_for`` is the
      contest's ``voteFor`` (more than 1: a [`Seats`][racecast.rules.Seats]
      rule); a question (``isQuestion="true"``) is of type ``Measure`` (with
      Yes/No choices: Yes needs a majority), every other contest of type
      ``Candidate``; Clarity gives no contest group or pass rate.  A contest
      with one choice is uncontested.  Rules are read as for
      [`read_ballot`][racecast.read_ballot] (see
      [`Ballot.rules`][racecast.Ballot.rules]).
    * **Parties** are the choices' ``party`` attributes.

    Parameters
    ----------
    paths
        A ``detail.xml`` or ``detailxml.zip`` path, or several.
    type_map
        ``{clarity vote type: batch type}`` entries that add to or override
        [`CLARITY_VOTE_TYPES`][racecast.io.CLARITY_VOTE_TYPES].
    ballots_counted
        Whether to read the file's ``ballotsCast`` as ``ballots_counted``.
    name
        The ballot's name in messages (default: the latest snapshot's
        ``<Region>`` and ``<ElectionName>``, else the folder's name).

    Returns
    -------
    Ballot

    Raises
    ------
    ImportError
        If ``clarify`` is not installed.
    CountFormatError
        Naming the snapshot file, the line of the XML element (as ``row``) and
        the contest / choice / vote type (as ``column``) of the first problem.

    Warns
    -----
    FeedWarning
        Once, listing the choices whose ``totalVotes`` exceeds the sum of their vote types.
    CorrectionWarning
        Once per contest whose cumulative votes went down (kept as published).

    Examples
    --------
    >>> import racecast
    >>> files = [f"tests/data/clarity/detail_{k}.xml" for k in (1, 2, 3)]
    >>> ballot = racecast.read_clarity_ballot(files)  # doctest: +SKIP
    >>> ballot.contests  # doctest: +SKIP
    ('Mayor', 'Measure A')
    >>> ballot.release_batch_types  # doctest: +SKIP
    ('mail', 'early_in_person', 'election_day', 'election_day', 'mail', 'election_day', 'provisional')
    """
    snaps = read_snapshots(paths, ballots_counted=ballots_counted, who="read_clarity_ballot")
    mapping = clarity_type_map(type_map)
    names = _contest_names(snaps)
    contests = {c: [s.contest(c, mapping) for s in snaps] for c in names}
    for c, v in contests.items():
        check_same_choices(c, snaps, v)
        if not v[0].votes:
            raise CountFormatError(f"contest {c!r} has no choices", source=snaps[0].path, column=c)
    warn_unattributed(snaps, contests)
    releases = split_releases(snaps, contests)
    label = name or snaps[-1].title or Path(snaps[-1].path).parent.name or snaps[-1].path
    candidates = {c: tuple(v[0].votes) for c, v in contests.items()}
    votes = {c: np.array([r.votes[c] for r in releases], dtype=np.int64) for c in contests}
    ids = np.arange(1, len(releases) + 1, dtype=np.int64)
    _warn_corrections(label, votes, candidates, ids)
    return Ballot(
        name=label,
        info=_info(contests),
        candidates=candidates,
        votes=votes,
        parties={c: tuple(v[-1].parties[k] for k in candidates[c]) for c, v in contests.items()},
        release_ids=ids,
        **_release_fields(releases),
    )


def _contest_names(snaps: Sequence[Snapshot]) -> list[str]:
    """The first snapshot's contests, which every snapshot must list, each name once."""
    first = snaps[0].contest_names
    for s in snaps:
        names = s.contest_names
        twice = [c for c, n in Counter(names).items() if n > 1]
        if twice:
            raise CountFormatError(
                f"contest {twice[0]!r} appears {names.count(twice[0])} times; a ballot needs unique "
                "contest names (read one of them with read_clarity)",
                source=s.path,
                row=getattr(s.elements.get(twice[0]), "sourceline", None),
                column=twice[0],
            )
        if set(names) != set(first):
            gone = [c for c in first if c not in names]
            new = [c for c in names if c not in first]
            what = f"has no contest {gone[0]!r}" if gone else f"has a contest {new[0]!r}"
            raise CountFormatError(
                f"this snapshot {what} that the first snapshot ({snaps[0].path}) "
                f"{'has' if gone else 'does not have'}; every snapshot must list the same contests",
                source=s.path,
                column=(gone or new)[0],
            )
    return first


def _info(contests: Mapping[str, Sequence[ContestVotes]]) -> pd.DataFrame:
    """One row per contest, the columns of [`Ballot.info`][racecast.Ballot]."""
    rows = [
        {
            "contest": c,
            "contest_group": "",
            "type": "Measure" if v[-1].is_question else "Candidate",
            "vote_for": v[-1].vote_for,
            "measure_pass_rate": "",
            "pass_share": None,
            "n_candidates": len(v[-1].votes),
        }
        for c, v in contests.items()
    ]
    df = pd.DataFrame(rows, columns=list(rows[0]) if rows else ["contest"]).set_index("contest")
    df["vote_for"] = df["vote_for"].astype("Int64")
    df["n_candidates"] = df["n_candidates"].astype("Int64")
    return df


def _release_fields(releases: Sequence[Release]) -> dict[str, Any]:
    """The jurisdiction fields of the ballot: times, batch types, ballots, (no) outstanding, text."""
    n = len(releases)
    return {
        "released_at": pd.Series(
            pd.to_datetime([r.snapshot.at for r in releases], utc=True), name="released_at"
        ),
        "release_batch_types": tuple(r.batch_type for r in releases),
        "ballots_counted": np.array(
            [np.nan if r.ballots is None else r.ballots for r in releases], dtype=float
        ),
        "outstanding": pd.DataFrame(np.empty((n, 0)), columns=pd.Index([], dtype=object, name="batch_type")),
        "outstanding_total": np.full(n, np.nan),
        "text": pd.DataFrame(
            {"source": [r.snapshot.path for r in releases], "note": [r.note for r in releases]}
        ),
    }
