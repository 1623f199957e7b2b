"""Clarity ENR ``detail.xml`` snapshots: [`read_clarity`][racecast.read_clarity]."""

from __future__ import annotations

import difflib
import io
import os
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from .._format import TYPE_RE, parse_int, snake
from .._table import fields_from_rows
from ..count import Count
from ..errors import CountFormatError
from ._text import read_bytes

__all__ = ["CLARITY_VOTE_TYPES", "read_clarity"]

#: Clarity vote-type names (matched case-insensitively) and the batch type each
#: maps to by default.  Names not listed become their snake_case form
#: (``"Mail Ballots"`` -> ``mail_ballots``); pass ``type_map`` to
#: [`read_clarity`][racecast.read_clarity] to change or extend the mapping.
CLARITY_VOTE_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "Election Day": "election_day",
        "Election Day Votes": "election_day",
        "Election": "election_day",
        "Absentee by Mail": "mail",
        "Absentee by Mail Votes": "mail",
        "Absentee": "mail",
        "Mail": "mail",
        "Vote by Mail": "mail",
        "Advance in Person": "early_in_person",
        "Advance Voting Votes": "early_in_person",
        "Early Vote": "early_in_person",
        "Early Voting": "early_in_person",
        "One Stop": "early_in_person",
        "Provisional": "provisional",
        "Provisional Votes": "provisional",
    }
)

# US time-zone abbreviations as Clarity writes them in <Timestamp>.
_US_TZ = {
    "UTC": 0,
    "GMT": 0,
    "EST": -5 * 3600,
    "EDT": -4 * 3600,
    "CST": -6 * 3600,
    "CDT": -5 * 3600,
    "MST": -7 * 3600,
    "MDT": -6 * 3600,
    "PST": -8 * 3600,
    "PDT": -7 * 3600,
    "AKST": -9 * 3600,
    "AKDT": -8 * 3600,
    "HST": -10 * 3600,
}


def _import_clarify() -> Any:
    try:
        import clarify
    except ImportError as exc:  # pragma: no cover - exercised by monkeypatching in tests
        raise ImportError(
            "read_clarity needs the optional 'clarify' package: pip install 'racecast[clarity]' "
            "(or pip install clarify)"
        ) from exc
    return clarify


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
    library (install ``racecast[clarity]``).

    How snapshots become a [`Count`][racecast.Count]:

    * **Releases**: each snapshot is one release, in the order of its
      ``<Timestamp>`` (files with the same timestamp keep the order given).
      A snapshot that adds no votes is kept as a release.
    * **Candidates** are the contest's ``Choice`` names in the first snapshot;
      every snapshot must have the same choices.  Their cumulative votes are
      the ``totalVotes`` of each choice, which must equal the sum of its vote
      types.  Contest-level vote types (undervotes, overvotes) are not read.
    * **Batch type**: Clarity vote types are mapped to batch types with
      [`CLARITY_VOTE_TYPES`][racecast.io.CLARITY_VOTE_TYPES] updated by ``type_map`` (several vote types may
      map to one batch type, their votes are summed).  A release's batch type
      is the one that added the most votes since the previous snapshot (ties go
      to the type listed first in the file).  A release that adds no votes
      (or only corrects) takes the batch type of the nearest release before it
      that added votes, or else after it, or ``mixed`` if none did.  The votes
      each type added are written to the ``note`` column, so a release that
      mixed types is visible.
    * **ballots_counted** is the file's jurisdiction-wide ``ballotsCast``
      (``<ElectionVoterTurnout>`` or ``<VoterTurnout>``) when
      ``ballots_counted=True``; outstanding ballots are then given in ballots
      to [`forecast`][racecast.forecast] as ``remaining=``.  Clarity does not publish
      outstanding ballots, so the count has no ``outstanding_<type>`` columns.
    * **released_at** is the ``<Timestamp>`` (with its US time-zone
      abbreviation, e.g. ``EST``) in UTC; ``source`` is the snapshot's path.

    Messages about one release (a [`CorrectionWarning`][racecast.CorrectionWarning],
    say) name it as ``row N`` where N is the snapshot's position in time order
    (1 = first); errors about one file name the file.

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
        first problem; also when no snapshot is given or ``type_map`` maps to
        something that is not a snake_case label.

    Examples
    --------
    >>> import racecast
    >>> files = ["tests/data/clarity/detail_1.xml", "tests/data/clarity/detail_2.xml"]
    >>> count = racecast.read_clarity(files, contest="Mayor")  # doctest: +SKIP
    >>> count.release_batch_types  # doctest: +SKIP
    ('mail', 'election_day')
    """
    clarify = _import_clarify()
    path_list = [Path(paths)] if isinstance(paths, (str, os.PathLike)) else [Path(p) for p in paths]
    if not path_list:
        raise CountFormatError("read_clarity needs at least one detail.xml snapshot")
    mapping = _clarity_type_map(type_map)
    snaps = [
        _snapshot(clarify, path, order, contest=contest, mapping=mapping, ballots_counted=ballots_counted)
        for order, path in enumerate(path_list)
    ]
    snaps.sort(key=lambda s: (s["at"], s["order"]))
    candidates = list(snaps[0]["votes"])
    for s in snaps[1:]:
        if list(s["votes"]) != candidates:
            raise CountFormatError(
                f"contest {contest!r} has choices {list(s['votes'])} but the first snapshot "
                f"({snaps[0]['path']}) has {candidates}; every snapshot must list the same candidates",
                source=s["path"],
            )
    types, notes = _clarity_release_types(snaps)
    header = ["released_at", "batch_type", *candidates, *(["ballots_counted"] if ballots_counted else [])]
    rows = [
        [
            s["at"].isoformat(),
            bt,
            *(str(s["votes"][c]) for c in candidates),
            *([] if not ballots_counted else ["" if s["ballots"] is None else str(s["ballots"])]),
            s["path"],
            note,
        ]
        for s, bt, note in zip(snaps, types, notes, strict=True)
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
        raise CountFormatError(
            f"{exc.reason} (snapshot {exc.row} of {len(rows)} in time order)",
            source=snaps[exc.row - 1]["path"],
            column=exc.column,
        ) from None
    return Count(**fields)


def _snapshot(
    clarify: Any, path: Path, order: int, *, contest: str, mapping: Mapping[str, str], ballots_counted: bool
) -> dict[str, Any]:
    """One parsed snapshot: its time, jurisdiction ballots and the contest's votes (by batch type too)."""
    from lxml import etree  # a dependency of clarify

    label = str(path)
    try:
        tree = etree.fromstring(_clarity_xml(path, label))
    except etree.XMLSyntaxError as exc:
        raise CountFormatError(f"not a readable XML file ({exc})", source=label) from None
    if tree.tag != "ElectionResult":
        raise CountFormatError(
            f"not a Clarity detail.xml file: the root element is <{tree.tag}>, not <ElectionResult>",
            source=label,
        )
    ts = _clarity_timestamp(tree.findtext("Timestamp"), label)
    ballots = _clarity_ballots(tree, label) if ballots_counted else None
    parser = clarify.Parser()
    try:
        parser.parse(etree.tostring(tree, encoding="unicode"))
    except (IndexError, KeyError, ValueError, TypeError) as exc:
        raise CountFormatError(
            f"not a Clarity detail.xml file clarify can read ({type(exc).__name__}: {exc})", source=label
        ) from None
    return {"order": order, "path": label, "at": ts, "ballots": ballots} | _clarity_contest(
        parser, contest, label, mapping
    )


def _clarity_type_map(type_map: Mapping[str, str] | None) -> dict[str, str]:
    merged = {k.strip().lower(): v for k, v in CLARITY_VOTE_TYPES.items()}
    for k, v in (type_map or {}).items():
        if not isinstance(v, str) or not TYPE_RE.match(v):
            raise CountFormatError(
                f"type_map[{k!r}] = {v!r}: batch types are snake_case labels such as "
                f"{snake(str(v)) or 'mail'!r}"
            )
        merged[str(k).strip().lower()] = v
    return merged


def _clarity_xml(path: Path, label: str) -> bytes:
    raw = read_bytes(path, label)
    if raw[:2] != b"PK":
        return raw
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".xml")]
            if len(names) != 1:
                raise CountFormatError(
                    f"a Clarity detailxml.zip holds one detail.xml; this archive has {archive.namelist()}",
                    source=label,
                )
            return archive.read(names[0])
    except zipfile.BadZipFile as exc:
        raise CountFormatError(f"not a readable zip archive ({exc})", source=label) from None


def _clarity_timestamp(raw: str | None, label: str) -> pd.Timestamp:
    import dateutil.parser

    if raw is None or not raw.strip():
        raise CountFormatError("the file has no <Timestamp>", source=label, column="Timestamp")
    try:
        dt = dateutil.parser.parse(raw, tzinfos=_US_TZ)
    except (ValueError, OverflowError):
        raise CountFormatError(
            f"cannot read the <Timestamp> {raw!r} as a date and time", source=label, column="Timestamp"
        ) from None
    if dt.tzinfo is None:
        raise CountFormatError(
            f"the <Timestamp> {raw!r} has no time zone racecast knows (one of {sorted(_US_TZ)} or a UTC "
            "offset); snapshots cannot be put in time order without it",
            source=label,
            column="Timestamp",
        )
    return pd.Timestamp(dt).tz_convert("UTC")


def _clarity_ballots(tree: Any, label: str) -> int:
    el = tree.find("ElectionVoterTurnout")
    if el is None:
        el = tree.find("VoterTurnout")
    raw = None if el is None else el.get("ballotsCast")
    if raw is None:
        raise CountFormatError(
            "no ballotsCast in <ElectionVoterTurnout> or <VoterTurnout>; pass ballots_counted=False to read "
            "the file without jurisdiction-wide ballots",
            source=label,
            column="ballotsCast",
        )
    return parse_int(raw, source=label, row=None, column="ballotsCast", what="ballotsCast")


def _clarity_contest(parser: Any, contest: str, label: str, mapping: Mapping[str, str]) -> dict[str, Any]:
    try:
        c = parser.get_contest(contest)
    except KeyError:
        names = [x.text for x in parser.contests]
        close = difflib.get_close_matches(contest, names, n=3)
        hint = f"; did you mean {close}?" if close else f"; the file has {names[:20]}"
        raise CountFormatError(f"no contest {contest!r}{hint}", source=label) from None
    votes: dict[str, int] = {}
    by_type: dict[str, int] = {}
    for choice in c.choices:
        name = str(choice.text).strip()
        where = f"{contest} / {name}"
        if not name:
            raise CountFormatError("a Choice has an empty text attribute", source=label, column=contest)
        if name in votes:
            raise CountFormatError(
                "the same choice appears twice in the contest; candidate names must be unique",
                source=label,
                column=where,
            )
        summed = 0
        for r in choice.results:
            if r.jurisdiction is not None:
                continue
            n = r.votes
            if not isinstance(n, int) or n < 0:
                raise CountFormatError(
                    f"votes must be a whole number, got {n!r}",
                    source=label,
                    column=f"{where} / {r.vote_type}",
                )
            bt = mapping.get(str(r.vote_type).strip().lower()) or snake(str(r.vote_type)) or "mixed"
            by_type[bt] = by_type.get(bt, 0) + n
            summed += n
        total = choice.total_votes
        if total is None or total < 0:
            raise CountFormatError(
                f"totalVotes must be a whole number, got {total!r}", source=label, column=where
            )
        if summed != total:
            raise CountFormatError(
                f"totalVotes is {total:,} but its vote types add up to {summed:,}; the file is inconsistent",
                source=label,
                column=where,
            )
        votes[name] = total
    if len(votes) < 2:
        raise CountFormatError(
            f"contest {contest!r} has {len(votes)} choice(s); a count needs at least two candidates",
            source=label,
        )
    return {"votes": votes, "by_type": by_type}


def _clarity_release_types(snaps: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Batch type of each snapshot (the type that added most votes) and a note of what each type added."""
    picked: list[str | None] = []
    notes: list[str] = []
    prev: dict[str, int] = {}
    for s in snaps:
        added = {t: n - prev.get(t, 0) for t, n in s["by_type"].items()}
        for t, n in prev.items():
            added.setdefault(t, -n)
        best = max(added, key=lambda t: added[t], default=None)  # first wins a tie
        picked.append(best if best is not None and added[best] > 0 else None)
        changed = [f"{t} {n:+,}" for t, n in added.items() if n != 0]
        notes.append("votes added by type: " + (", ".join(changed) if changed else "none"))
        prev = s["by_type"]
    # releases that added no votes take the type of the nearest release before (else after) that did
    filled: list[str] = []
    for i, own in enumerate(picked):
        before = next((x for x in reversed(picked[:i]) if x is not None), None)
        after = next((x for x in picked[i + 1 :] if x is not None), None)
        filled.append(own or before or after or "mixed")
    return filled, notes
