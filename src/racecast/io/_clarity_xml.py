"""One Clarity ENR ``detail.xml`` snapshot: its time, ballots and each contest's votes by vote type.

Shared by [`read_clarity`][racecast.read_clarity] and
[`read_clarity_ballot`][racecast.read_clarity_ballot].  Errors name the file, the
line of the XML element (as ``row``) and the contest / choice / vote type (as
``column``).
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from .._format import TYPE_RE, parse_int, snake
from ..errors import CountFormatError, InputError
from ._text import read_bytes

#: Clarity vote-type names (matched case-insensitively) and the batch type each
#: maps to by default.  Names not listed become their snake_case form
#: (``"Mail Ballots"`` -> ``mail_ballots``); pass ``type_map`` to
#: [`read_clarity`][racecast.read_clarity] to change or extend the mapping.
#: Votes a choice's ``totalVotes`` holds beyond the sum of its vote types are
#: batch type ``unspecified``.
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

#: Batch type of the votes in a choice's ``totalVotes`` that no vote type holds.
UNSPECIFIED = "unspecified"

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


def import_clarify() -> Any:
    """The optional ``clarify`` module, or an ImportError saying how to install it."""
    try:
        import clarify
    except ImportError as exc:  # pragma: no cover - exercised by monkeypatching in tests
        raise ImportError(
            "read_clarity needs the optional 'clarify' package: pip install 'racecast[clarity]' "
            "(or pip install clarify)"
        ) from exc
    return clarify


def clarity_type_map(type_map: Mapping[str, str] | None) -> dict[str, str]:
    """[`CLARITY_VOTE_TYPES`][racecast.io.CLARITY_VOTE_TYPES] updated by ``type_map``, keys lower-cased."""
    merged = {k.strip().lower(): v for k, v in CLARITY_VOTE_TYPES.items()}
    for k, v in (type_map or {}).items():
        if not isinstance(v, str) or not TYPE_RE.match(v):
            raise CountFormatError(
                f"type_map[{k!r}] = {v!r}: batch types are snake_case labels such as "
                f"{snake(str(v)) or 'mail'!r}"
            )
        merged[str(k).strip().lower()] = v
    return merged


@dataclass(frozen=True)
class ContestVotes:
    """One contest in one snapshot.

    ``by_type`` is ``{batch type: {choice: votes}}`` with the types in file
    order and ``unspecified`` last; ``unattributed`` is ``{choice: (totalVotes,
    sum of its vote types)}`` for the choices whose total exceeds their types.
    """

    name: str
    votes: dict[str, int]
    by_type: dict[str, dict[str, int]]
    unattributed: dict[str, tuple[int, int]]
    parties: dict[str, str]
    vote_for: int | None
    is_question: bool


@dataclass(frozen=True)
class Snapshot:
    """A parsed ``detail.xml``: where it came from, its time and ballots, and its contests."""

    order: int
    path: str
    at: pd.Timestamp
    ballots: int | None
    title: str
    parser: Any
    elements: Mapping[str, Any]

    @property
    def contest_names(self) -> list[str]:
        """Contest names in file order."""
        return [str(c.text) for c in self.parser.contests]

    def contest(self, name: str, mapping: Mapping[str, str]) -> ContestVotes:
        """The contest's votes, by choice and by batch type."""
        try:
            c = self.parser.get_contest(name)
        except KeyError:
            names = self.contest_names
            close = difflib.get_close_matches(name, names, n=3)
            hint = f"; did you mean {close}?" if close else f"; the file has {names[:20]}"
            raise CountFormatError(f"no contest {name!r}{hint}", source=self.path) from None
        return _contest_votes(c, name, self.path, self.elements.get(name), mapping)


def read_snapshot(clarify: Any, path: Path, order: int, *, ballots_counted: bool) -> Snapshot:
    """Parse one ``detail.xml`` (or ``detailxml.zip``)."""
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
    elements: dict[str, Any] = {}
    for el in tree.iterfind("Contest"):
        elements.setdefault(str(el.get("text", "")), el)
    title = " ".join(t.strip() for t in (tree.findtext("Region"), tree.findtext("ElectionName")) if t)
    return Snapshot(order, label, ts, ballots, title, parser, elements)


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


def clarity_utc_offset(path: Path) -> dt.tzinfo | None:
    """The UTC offset a ``detail.xml`` (or its zip) was stamped with, or ``None`` when unreadable.

    Read from its ``<Timestamp>`` (``EST``, ``PDT``, ... or a numeric offset), so a report
    shows times as the jurisdiction published them.
    """
    import dateutil.parser

    try:
        found = re.search(rb"<Timestamp>([^<]*)</Timestamp>", _clarity_xml(path, str(path)))
        stamp = dateutil.parser.parse(found.group(1).decode(), tzinfos=_US_TZ) if found else None
    except (InputError, OSError, ValueError, OverflowError):
        return None
    offset = stamp.utcoffset() if stamp is not None else None
    return None if offset is None else dt.timezone(offset)


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
    return parse_int(raw, source=label, row=el.sourceline, column="ballotsCast", what="ballotsCast")


def _choice_lines(element: Any) -> dict[str, int]:
    """Source line of each ``<Choice>`` of a ``<Contest>`` element, by its text."""
    if element is None:
        return {}
    lines: dict[str, int] = {}
    for ch in element.iterfind("Choice"):
        lines.setdefault(str(ch.get("text", "")).strip(), ch.sourceline)
    return lines


def _contest_votes(
    c: Any, contest: str, label: str, element: Any, mapping: Mapping[str, str]
) -> ContestVotes:
    """Votes of one clarify contest: totals, by batch type, and what no vote type holds."""
    lines = _choice_lines(element)
    row = None if element is None else element.sourceline
    votes: dict[str, int] = {}
    by_type: dict[str, dict[str, int]] = {}
    unattributed: dict[str, tuple[int, int]] = {}
    parties: dict[str, str] = {}
    for choice in c.choices:
        name = str(choice.text).strip()
        where = f"{contest} / {name}"
        kw: dict[str, Any] = {"source": label, "row": lines.get(name, row)}
        if not name:
            raise CountFormatError("a Choice has an empty text attribute", column=contest, **kw)
        if name in votes:
            raise CountFormatError(
                "the same choice appears twice in the contest; candidate names must be unique",
                column=where,
                **kw,
            )
        summed = 0
        for r in choice.results:
            if r.jurisdiction is not None:
                continue
            n = r.votes
            if not isinstance(n, int) or n < 0:
                raise CountFormatError(
                    f"votes must be a whole number, got {n!r}", column=f"{where} / {r.vote_type}", **kw
                )
            bt = mapping.get(str(r.vote_type).strip().lower()) or snake(str(r.vote_type)) or "mixed"
            by_type.setdefault(bt, {})
            by_type[bt][name] = by_type[bt].get(name, 0) + n
            summed += n
        total = choice.total_votes
        if not isinstance(total, int) or total < 0:
            raise CountFormatError(f"totalVotes must be a whole number, got {total!r}", column=where, **kw)
        if summed > total:
            raise CountFormatError(
                f"totalVotes is {total:,} but its vote types add up to {summed:,}, more than the total; "
                "the file is inconsistent",
                column=where,
                **kw,
            )
        if summed < total:
            unattributed[name] = (total, summed)
        votes[name] = total
        parties[name] = str(choice.party or "")
    if unattributed:
        by_type[UNSPECIFIED] = {n: t - s for n, (t, s) in unattributed.items()}
    for per_choice in by_type.values():
        for name in votes:
            per_choice.setdefault(name, 0)
    vote_for = c.vote_for if isinstance(c.vote_for, int) and c.vote_for > 0 else None
    return ContestVotes(contest, votes, by_type, unattributed, parties, vote_for, bool(c.is_question))
