"""Clarity ENR ``detail.xml`` snapshots: [`read_clarity`][racecast.read_clarity]."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from .._table import fields_from_rows
from ..count import Count
from ..errors import CountFormatError
from ._clarity_releases import check_same_choices, read_snapshots, split_releases, warn_unattributed
from ._clarity_xml import CLARITY_VOTE_TYPES, clarity_type_map

__all__ = ["CLARITY_VOTE_TYPES", "read_clarity"]


def read_clarity(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    contest: str,
    type_map: Mapping[str, str] | None = None,
    ballots_counted: bool = True,
) -> Count:
    """Read a sequence of Clarity ENR ``detail.xml`` snapshots into a count.

    Many US counties and states publish results with Clarity Elections'
    election-night reporting (ENR) system, whose ``detail.xml`` (inside
    ``detailxml.zip``) holds every contest's votes per candidate broken down by
    *vote type* ("Election Day", "Absentee by Mail", "Advance in Person",
    "Provisional", ...).  Saving the file after each update gives a sequence
    of snapshots, parsed with the `clarify <https://pypi.org/project/clarify/>`_
    library (install ``racecast[clarity]``).  For every contest of the
    snapshots at once, use [`read_clarity_ballot`][racecast.read_clarity_ballot].

    How snapshots become a [`Count`][racecast.Count]:

    * **Candidates** are the contest's ``Choice`` names in the first snapshot;
      every snapshot must have the same choices.  Their cumulative votes are
      the ``totalVotes`` of each choice.  Contest-level vote types (undervotes,
      overvotes) are not read.
    * **Batch types**: Clarity vote types are mapped to batch types with
      [`CLARITY_VOTE_TYPES`][racecast.io.CLARITY_VOTE_TYPES] updated by
      ``type_map`` (several vote types may map to one batch type, their votes
      are summed).  Votes a choice's ``totalVotes`` holds beyond the sum of its
      vote types (some feeds publish counties without a split) are batch type
      ``unspecified``, announced by a [`FeedWarning`][racecast.errors.FeedWarning];
      vote types adding up to more than ``totalVotes`` are an error.
    * **Releases**: snapshots are taken in the order of their ``<Timestamp>``
      (files with the same timestamp keep the order given).  What a snapshot
      added since the one before is known type by type, so each batch type
      that changed is its own release, at the snapshot's time, in the order
      the batch types first appear in the files (``unspecified`` last).  A
      snapshot where nothing changed is one release.  A release whose type
      added no votes overall (only corrections) takes the batch type of the
      nearest release before it that added votes, or else after it, or
      ``mixed``.  Every release's ``note`` lists the votes each type added in
      its snapshot (and, when the snapshot was split, which part it is).
    * **ballots_counted** is the file's jurisdiction-wide ``ballotsCast``
      (``<ElectionVoterTurnout>`` or ``<VoterTurnout>``) when
      ``ballots_counted=True``, on the last release of each snapshot (blank on
      the others: the split of ballots by type is not published); outstanding
      ballots are then given in ballots to [`forecast`][racecast.forecast] as
      ``remaining=``.  Clarity does not publish outstanding ballots, so the
      count has no ``outstanding_<type>`` columns.
    * **released_at** is the ``<Timestamp>`` (with its US time-zone
      abbreviation, e.g. ``EST``) in UTC; ``source`` is the snapshot's path.

    Messages about one release (a [`CorrectionWarning`][racecast.CorrectionWarning],
    say) name it as ``row N`` where N is the release's position in time order
    (1 = first); errors about one file name the file, the line of the XML
    element (as ``row``) and the contest / choice / vote type (as ``column``).

    Parameters
    ----------
    paths
        A ``detail.xml`` or ``detailxml.zip`` path, or several.
    contest
        The contest's text exactly as in the file (e.g. ``"U.S. Senate"``).
    type_map
        ``{clarity vote type: batch type}`` entries that add to or override
        [`CLARITY_VOTE_TYPES`][racecast.io.CLARITY_VOTE_TYPES]; batch types are snake_case labels.
    ballots_counted
        Whether to read the file's ``ballotsCast`` as ``ballots_counted``.

    Returns
    -------
    Count

    Raises
    ------
    ImportError
        If ``clarify`` is not installed.
    CountFormatError
        Naming the snapshot file (and the contest, choice or vote type) of the
        first problem; also when no snapshot is given, when the contest has
        fewer than two choices, or when ``type_map`` maps to something that is
        not a snake_case label.

    Warns
    -----
    FeedWarning
        Once, when a choice's ``totalVotes`` exceeds the sum of its vote types.
    CorrectionWarning
        For each cumulative total that went down.

    Examples
    --------
    >>> import racecast
    >>> files = [f"tests/data/clarity/detail_{k}.xml" for k in (1, 2, 3)]
    >>> count = racecast.read_clarity(files, contest="Mayor")  # doctest: +SKIP
    >>> count.release_batch_types  # doctest: +SKIP
    ('mail', 'early_in_person', 'election_day', 'mail', 'provisional')
    """
    snaps = read_snapshots(paths, ballots_counted=ballots_counted, who="read_clarity")
    mapping = clarity_type_map(type_map)
    votes = [s.contest(contest, mapping) for s in snaps]
    check_same_choices(contest, snaps, votes)
    if len(votes[0].votes) < 2:
        raise CountFormatError(
            f"contest {contest!r} has {len(votes[0].votes)} choice(s); a count needs at least two "
            "candidates (read_clarity_ballot reads a one-choice contest as uncontested)",
            source=snaps[0].path,
        )
    warn_unattributed(snaps, {contest: votes})
    releases = split_releases(snaps, {contest: votes})
    candidates = list(votes[0].votes)
    header = ["released_at", "batch_type", *candidates, *(["ballots_counted"] if ballots_counted else [])]
    rows = [
        [
            r.snapshot.at.isoformat(),
            r.batch_type,
            *(str(int(n)) for n in r.votes[contest]),
            *([] if not ballots_counted else ["" if r.ballots is None else str(r.ballots)]),
            r.snapshot.path,
            r.note,
        ]
        for r in releases
    ]
    try:
        fields = fields_from_rows(
            [*header, "source", "note"],
            rows,
            name=f"Clarity {contest!r} snapshots",
            lines=range(1, len(rows) + 1),
        )
    except CountFormatError as exc:
        if exc.row is None:
            raise
        snap = releases[exc.row - 1].snapshot
        raise CountFormatError(
            f"{exc.reason} (release {exc.row} of {len(rows)} in time order, from snapshot "
            f"{snaps.index(snap) + 1} of {len(snaps)})",
            source=snap.path,
            column=exc.column,
        ) from None
    return Count(**fields)
