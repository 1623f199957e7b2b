"""Readers: files in, validated :class:`~racecast.count.Count` out.

Every reader funnels through the same validation (``racecast.count``), so a bad
file gets the same clear :class:`~racecast.errors.CountFormatError` naming the
file, row and column whatever its origin.
"""

from __future__ import annotations

import csv
import difflib
import io as _io
import itertools
import os
import re
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any

import pandas as pd

from .count import _TYPE_RE, OUTSTANDING_PREFIX, Count, _count_from_rows, _parse_int, _snake
from .errors import CountFormatError, FeedWarning, ForecastInputError

__all__ = ["CLARITY_VOTE_TYPES", "example_path", "read_clarity", "read_count", "read_nyt2020"]


def example_path(name: str) -> Path:
    """Path of a count file bundled with racecast.

    Parameters
    ----------
    name
        ``"la_mayor_2022_general"`` or ``"la_mayor_2022_primary"`` (the ``.csv``
        suffix is optional).  Sources are in ``racecast/data/SOURCES.md``.

    Examples
    --------
    >>> import racecast
    >>> racecast.example_path("la_mayor_2022_general").name
    'la_mayor_2022_general.csv'
    """
    fname = name if name.endswith(".csv") else f"{name}.csv"
    path = Path(str(resources.files("racecast") / "data" / fname))
    if not path.is_file():
        available = sorted(p.stem for p in Path(path.parent).glob("*.csv"))
        raise FileNotFoundError(f"no bundled count {name!r}; available: {available}")
    return path


def read_count(path_or_buffer: str | os.PathLike[str] | IO[str], *, name: str | None = None) -> Count:
    """Read a count file (CSV) into a validated :class:`~racecast.count.Count`.

    The format is described in ``docs/data-format.md``: one row per release with
    cumulative votes per candidate, a ``batch_type`` column, and optional
    ``release``, ``released_at``, ``ballots_counted``, ``outstanding_<type>``,
    ``source`` and ``note`` columns.

    Parameters
    ----------
    path_or_buffer
        A path, or an open text buffer.
    name
        Name used in error messages (defaults to the file name).

    Returns
    -------
    Count

    Raises
    ------
    CountFormatError
        With the file, row and column of the first problem found.

    Examples
    --------
    >>> import racecast
    >>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    >>> count.batch_types
    ('early_mail', 'vote_center', 'late_mail', 'provisional')
    """
    if isinstance(path_or_buffer, (str, os.PathLike)):
        path = Path(path_or_buffer)
        label = name or str(path)
        if isinstance(path_or_buffer, str) and "\n" in path_or_buffer:
            raise CountFormatError(
                "this looks like CSV text, not a path; pass io.StringIO(text) to read text", source="<text>"
            )
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise CountFormatError("file not found", source=label) from None
        except IsADirectoryError:
            raise CountFormatError("is a directory, not a count file", source=label) from None
        except (OSError, ValueError) as exc:
            raise CountFormatError(f"cannot be read ({exc.__class__.__name__}: {exc})", source=label) from None
    else:
        label = str(name or getattr(path_or_buffer, "name", None) or "<buffer>")
        if not hasattr(path_or_buffer, "read"):
            raise CountFormatError(
                f"read_count needs a path or an open text file, got {type(path_or_buffer).__name__}", source=label
            )
        raw = path_or_buffer.read()
        if not isinstance(raw, (str, bytes)):
            raise CountFormatError(f"reading the buffer gave {type(raw).__name__}, not text", source=label)
    text = _decode_text(raw, label) if isinstance(raw, bytes) else raw.lstrip("\ufeff")
    return _parse_csv_text(text, label)


def _decode_text(raw: bytes, label: str) -> str:
    """UTF-8 (with or without a byte-order mark); anything else is refused with what to do."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(raw) > 1 and raw[1:2] == b"\x00" and raw[:1] != b"\x00"):
        raise CountFormatError(
            "the file is UTF-16 text; save it as UTF-8 (in Excel: 'CSV UTF-8 (comma delimited)')", source=label
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CountFormatError(
            f"not UTF-8 text ({exc.reason} at byte {exc.start}); save the file as UTF-8 "
            "(in Excel: 'CSV UTF-8 (comma delimited)'); racecast does not guess encodings",
            source=label,
        ) from None


def _parse_csv_text(text: str, label: str) -> Count:
    header, rows, lines = _csv_table(text, label)
    return _count_from_rows(header, rows, name=label, line_numbers=lines)


def _csv_table(text: str, label: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, data rows and their line numbers of a count CSV (blank lines skipped)."""
    reader = csv.reader(_io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    end = 0  # a record runs from the line after the previous one ends (a quoted field may span lines)
    try:
        for record in reader:
            line, end = end + 1, reader.line_num
            if not record or all(not f.strip() for f in record):
                continue  # blank lines separate nothing in a CSV; they hold no data
            if header is None:
                header = record
                continue
            rows.append(record)
            lines.append(line)
    except csv.Error as exc:
        raise CountFormatError(f"not a readable CSV file ({exc})", source=label, row=reader.line_num) from None
    if header is None:
        raise CountFormatError("the file is empty (no header row)", source=label)
    if "batch_type" not in [h.strip() for h in header]:
        for sep, sep_name in ((";", "semicolons"), ("\t", "tabs"), ("|", "'|'")):
            if any("batch_type" == f.strip() for h in header for f in h.split(sep)):
                raise CountFormatError(
                    f"the columns are separated by {sep_name}: racecast reads comma-separated files; "
                    "save the file as CSV with ',' between fields (and '.' for decimals, no thousands separators)",
                    source=label,
                    row=1,
                )
    return header, rows, lines


#: Stand-in values that let validation go on past a bad cell (never returned).
_STAND_IN = {"batch_type": "mixed", "released_at": "", "ballots_counted": "", "source": "", "note": ""}


def _count_problems(
    path: str | os.PathLike[str], *, limit: int = 100
) -> tuple[Count | None, list[CountFormatError]]:
    """Every problem of a count file that can be found, not only the first.

    Validation is :func:`racecast.count._count_from_rows`, run again after each
    problem with the bad cell replaced by a stand-in (or, for a row-level
    problem or a bad ``release``, without the row) so that later problems are
    found too.  Returns the count when the file is valid (then the list is
    empty), else ``None`` and the problems in the order found.  Warnings of
    the retries are not reported (they may come from the stand-ins).
    """
    p = Path(path)
    label = str(p)
    try:
        header, rows, lines = _csv_table(_decode_text(_read_bytes(p, label), label), label)
        return _count_from_rows(header, rows, name=label, line_numbers=lines), []
    except CountFormatError as err:
        problems = [err]
    first = problems[0]
    if first.row in (None, 1):
        return None, problems  # the file or its header is unusable: nothing more to check
    names = [h.strip() for h in header]
    table = [list(r) for r in rows]
    alive = list(range(len(table)))
    patched: set[tuple[int, str]] = set()
    exc: CountFormatError | None = first
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        while exc is not None and len(problems) < limit:
            pos = next((k for k, i in enumerate(alive) if lines[i] == exc.row), None)
            if pos is None:
                break
            i, col = alive[pos], exc.column
            if col is None or col not in names or (i, col) in patched:
                del alive[pos]  # a row-level problem: go on without the row
            elif col == "release":
                # no stand-in can keep release numbers increasing: check the rest of the row on its own
                del alive[pos]
                alone = list(table[i])
                alone[names.index("release")] = "1"
                problems.extend(_row_problems(header, names, alone, lines[i], label))
            else:
                patched.add((i, col))
                table[i][names.index(col)] = _stand_in(col)
            if not alive:
                break
            try:
                _count_from_rows(
                    header, [table[i] for i in alive], name=label, line_numbers=[lines[i] for i in alive]
                )
                exc = None
            except CountFormatError as again:
                problems.append(again)
                exc = again
    problems.sort(key=lambda e: e.row or 0)  # stable: row by row, in the order found within a row
    return None, problems[:limit]


def _stand_in(col: str) -> str:
    return _STAND_IN.get(col, "" if col.startswith(OUTSTANDING_PREFIX) else "0")


def _row_problems(header: list[str], names: list[str], row: list[str], line: int, label: str) -> list[CountFormatError]:
    """Cell problems of one row checked on its own (no ordering checks apply)."""
    found: list[CountFormatError] = []
    while len(found) < len(names):
        try:
            _count_from_rows(header, [row], name=label, line_numbers=[line])
            break
        except CountFormatError as exc:
            if exc.column is None or exc.column not in names or exc.column == "release":
                break
            found.append(exc)
            row[names.index(exc.column)] = _stand_in(exc.column)
    return found


# ---------------------------------------------------------------------------
# Shared helpers for the feed readers.
# ---------------------------------------------------------------------------
def _read_bytes(path: Path, label: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CountFormatError("file not found", source=label) from None
    except IsADirectoryError:
        raise CountFormatError("is a directory, not a file", source=label) from None


# ---------------------------------------------------------------------------
# NYT 2020 results feed (battleground-state-changes.csv).
# ---------------------------------------------------------------------------
_NYT_COLUMNS = (
    "state",
    "timestamp",
    "leading_candidate_name",
    "trailing_candidate_name",
    "leading_candidate_votes",
    "trailing_candidate_votes",
    "votes_remaining",
)


def read_nyt2020(path: str | os.PathLike[str], *, state: str) -> Count:
    """Read one state's updates from the 2020 NYT results-feed scrape.

    The file is ``battleground-state-changes.csv`` as published by the
    community scraper of the New York Times' 2020 presidential results feed:
    one row per feed update, newest first within each state, with the leading
    and trailing candidates' cumulative votes and the Times' estimate of the
    votes still to be counted.  racecast's copy of it lives outside the
    repository (``../shared/data/nyt2020`` next to the checkout) and is never
    bundled.

    How the feed becomes a :class:`~racecast.count.Count`:

    * **Releases** are the state's rows in *release order* (the file's order
      reversed); release numbers run 1..n.  Updates that add no votes are kept
      as releases (they yield no batch for the model, see
      :meth:`Count.batches <racecast.count.Count.batches>`).  Rows must be
      newest first: an out-of-order file is an error, not re-sorted.
    * **Candidates** are the names in ``leading_candidate_name`` and
      ``trailing_candidate_name`` (leader of the first release first).  Their
      votes are read from ``leading_candidate_votes``/``trailing_candidate_votes``
      whichever position they hold in each row, so a change of leader is
      handled.  Third-party votes are not in the feed's candidate columns.
    * **Batch type** is ``mixed`` for every release: the feed does not say
      which kind of ballots an update held.
    * **Outstanding** is the Times' ``votes_remaining`` as
      ``outstanding_mixed``, in *votes* (the count has no ``ballots_counted``,
      so :attr:`Count.outstanding_unit <racecast.count.Count.outstanding_unit>`
      is ``"votes"``).  It is an estimate of *all* presidential votes left,
      third-party votes included (1-4% of the total in these states), so it
      slightly overstates the two candidates' remaining votes.  When the
      count overtook the Times' turnout estimate the feed reports a negative
      number; racecast reads it as 0 (nothing left by the Times' estimate),
      keeps the published value in the ``note`` column and issues a
      :class:`~racecast.errors.FeedWarning`.
    * **released_at** is the feed's ``timestamp``, which is UTC.
    * ``source`` holds ``<file name>:<line>`` of each release's row.

    Parameters
    ----------
    path
        Path of ``battleground-state-changes.csv``.
    state
        The state, either as in the file (``"Georgia (EV: 16)"``) or by name
        (``"Georgia"``, case-insensitive).

    Returns
    -------
    Count

    Raises
    ------
    CountFormatError
        Naming the file, line and column of the first problem (a missing
        column, a bad number, an unknown state, rows out of order, ...).

    Warns
    -----
    FeedWarning
        For each update whose ``votes_remaining`` is negative.
    CorrectionWarning
        For each update that lowered a candidate's cumulative votes (the feed
        has several; they are kept as published).

    Examples
    --------
    >>> import racecast, warnings
    >>> path = "../shared/data/nyt2020/battleground-state-changes.csv"
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", racecast.RacecastWarning)
    ...     ga = racecast.read_nyt2020(path, state="Georgia")  # doctest: +SKIP
    >>> ga.candidates, ga.batch_types  # doctest: +SKIP
    (('Trump', 'Biden'), ('mixed',))
    """
    p = Path(path)
    label = str(p)
    text = _decode_text(_read_bytes(p, label), label)
    reader = csv.reader(_io.StringIO(text, newline=""))
    header: list[str] | None = None
    records: list[tuple[int, dict[str, str]]] = []
    try:
        for record in reader:
            if not record or all(not f.strip() for f in record):
                continue
            if header is None:
                header = [h.strip() for h in record]
                missing = [c for c in _NYT_COLUMNS if c not in header]
                if missing:
                    raise CountFormatError(
                        f"missing column; an NYT 2020 results feed has the columns {list(_NYT_COLUMNS)} "
                        "(is this battleground-state-changes.csv?)",
                        source=label,
                        row=reader.line_num,
                        column=missing[0],
                    )
                continue
            if len(record) != len(header):
                raise CountFormatError(
                    f"has {len(record)} fields but the header has {len(header)}",
                    source=label,
                    row=reader.line_num,
                )
            records.append((reader.line_num, dict(zip(header, record))))
    except csv.Error as exc:
        raise CountFormatError(
            f"not a readable CSV file ({exc})", source=label, row=reader.line_num
        ) from None
    if header is None:
        raise CountFormatError("the file is empty (no header row)", source=label)

    state_label = _match_state(state, [r["state"] for _, r in records], label)
    mine = [(line, r) for line, r in records if r["state"] == state_label]
    stamps = [(line, _nyt_timestamp(r["timestamp"], label, line)) for line, r in mine]
    for (_, newer), (line, older) in itertools.pairwise(stamps):
        if pd.Timestamp(older) > pd.Timestamp(newer):
            raise CountFormatError(
                f"timestamp {older} is later than the row above it ({newer}); the feed lists a state's "
                "updates newest first",
                source=label,
                row=line,
                column="timestamp",
            )
    mine.reverse()  # the feed is newest first

    candidates: list[str] = []
    parsed: list[dict[str, Any]] = []
    for line, r in mine:
        names = (r["leading_candidate_name"].strip(), r["trailing_candidate_name"].strip())
        for col, nm in zip(("leading_candidate_name", "trailing_candidate_name"), names):
            if not nm:
                raise CountFormatError("candidate name is blank", source=label, row=line, column=col)
        if names[0] == names[1]:
            raise CountFormatError(
                f"leading and trailing candidate are both {names[0]!r}",
                source=label,
                row=line,
                column="trailing_candidate_name",
            )
        for nm in names:
            if nm not in candidates:
                candidates.append(nm)
        if len(candidates) > 2:
            raise CountFormatError(
                f"a third candidate name appears ({candidates}); the NYT 2020 feed holds the two leading "
                "candidates of a state, and each must be named in every row",
                source=label,
                row=line,
                column="trailing_candidate_name" if names[1] == candidates[-1] else "leading_candidate_name",
            )
        votes = {
            names[0]: _parse_int(
                r["leading_candidate_votes"],
                source=label,
                row=line,
                column="leading_candidate_votes",
                what="votes",
            ),
            names[1]: _parse_int(
                r["trailing_candidate_votes"],
                source=label,
                row=line,
                column="trailing_candidate_votes",
                what="votes",
            ),
        }
        raw_remaining = r["votes_remaining"].strip()
        try:
            remaining = int(raw_remaining)
        except ValueError:
            raise CountFormatError(
                f"votes_remaining must be a whole number, got {r['votes_remaining']!r}",
                source=label,
                row=line,
                column="votes_remaining",
            ) from None
        note = ""
        if remaining < 0:
            note = (
                f"votes_remaining published as {remaining}: the count passed the Times' turnout estimate; "
                "read as 0"
            )
            warnings.warn(
                f"{label}, row {line}, column 'votes_remaining': {remaining:,} (the count passed the Times' "
                "turnout estimate); read as 0 outstanding, published value kept in the note column",
                FeedWarning,
                stacklevel=2,
            )
            remaining = 0
        parsed.append(
            {
                "line": line,
                "released_at": _nyt_timestamp(r["timestamp"], label, line),
                "votes": votes,
                "remaining": remaining,
                "note": note,
            }
        )

    header_out = ["released_at", "batch_type", *candidates, "outstanding_mixed", "source", "note"]
    rows = [
        [
            rec["released_at"],
            "mixed",
            *(str(rec["votes"][c]) for c in candidates),
            str(rec["remaining"]),
            f"{p.name}:{rec['line']}",
            rec["note"],
        ]
        for rec in parsed
    ]
    return _count_from_rows(
        header_out, rows, name=f"{label} [{state_label}]", line_numbers=[rec["line"] for rec in parsed]
    )


def _match_state(state: str, labels: list[str], source: str) -> str:
    available = list(dict.fromkeys(labels))
    if not available:
        raise CountFormatError("the file has no data rows", source=source)
    want = state.strip().lower()
    for lab in available:
        if lab.lower() == want or re.sub(r"\s*\(.*\)\s*$", "", lab).strip().lower() == want:
            return lab
    names = [re.sub(r"\s*\(.*\)\s*$", "", lab).strip() for lab in available]
    close = difflib.get_close_matches(state.strip(), names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise CountFormatError(
        f"no rows for state {state!r}; the file has {names}{hint}", source=source, column="state"
    )


def _nyt_timestamp(raw: str, source: str, line: int) -> str:
    s = raw.strip()
    try:
        ts = pd.Timestamp(s)
    except (ValueError, TypeError):
        ts = pd.NaT
    if ts is pd.NaT:
        raise CountFormatError(
            f"timestamp must be a date and time (UTC), e.g. 2020-11-04 13:28:22.084000, got {raw!r}",
            source=source,
            row=line,
            column="timestamp",
        )
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.isoformat()


# ---------------------------------------------------------------------------
# Clarity ENR detail.xml snapshots.
# ---------------------------------------------------------------------------
#: Clarity vote-type names (matched case-insensitively) and the batch type each
#: maps to by default.  Names not listed become their snake_case form
#: (``"Mail Ballots"`` -> ``mail_ballots``); pass ``type_map`` to
#: :func:`read_clarity` to change or extend the mapping.
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

    How snapshots become a :class:`~racecast.count.Count`:

    * **Releases**: each snapshot is one release, in the order of its
      ``<Timestamp>`` (files with the same timestamp keep the order given).
      A snapshot that adds no votes is kept as a release.
    * **Candidates** are the contest's ``Choice`` names in the first snapshot;
      every snapshot must have the same choices.  Their cumulative votes are
      the ``totalVotes`` of each choice, which must equal the sum of its vote
      types.  Contest-level vote types (undervotes, overvotes) are not read.
    * **Batch type**: Clarity vote types are mapped to batch types with
      :data:`CLARITY_VOTE_TYPES` updated by ``type_map`` (several vote types may
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
      to :func:`racecast.forecast` as ``remaining=``.  Clarity does not publish
      outstanding ballots, so the count has no ``outstanding_<type>`` columns.
    * **released_at** is the ``<Timestamp>`` (with its US time-zone
      abbreviation, e.g. ``EST``) in UTC; ``source`` is the snapshot's path.

    Messages about one release (a :class:`~racecast.errors.CorrectionWarning`,
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
        :data:`CLARITY_VOTE_TYPES`; batch types are snake_case labels.
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
        first problem.
    ForecastInputError
        If ``type_map`` maps to something that is not a snake_case label.

    Examples
    --------
    >>> import racecast
    >>> files = ["tests/data/clarity/detail_1.xml", "tests/data/clarity/detail_2.xml"]
    >>> count = racecast.read_clarity(files, contest="Mayor")  # doctest: +SKIP
    >>> count.release_batch_types  # doctest: +SKIP
    ('mail', 'election_day')
    """
    clarify = _import_clarify()
    from lxml import etree  # a dependency of clarify

    if isinstance(paths, (str, os.PathLike)):
        path_list = [Path(paths)]
    else:
        path_list = [Path(p) for p in paths]
    if not path_list:
        raise ForecastInputError("read_clarity needs at least one detail.xml snapshot")
    mapping = _clarity_type_map(type_map)

    snaps = []
    for order, path in enumerate(path_list):
        label = str(path)
        xml = _clarity_xml(path, label)
        try:
            tree = etree.fromstring(xml)
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
        snaps.append(
            {"order": order, "path": label, "at": ts, "ballots": ballots}
            | _clarity_contest(parser, contest, label, mapping)
        )

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
    header = ["released_at", "batch_type", *candidates, "ballots_counted", "source", "note"]
    rows = [
        [
            s["at"].isoformat(),
            bt,
            *(str(s["votes"][c]) for c in candidates),
            "" if s["ballots"] is None else str(s["ballots"]),
            s["path"],
            note,
        ]
        for s, bt, note in zip(snaps, types, notes)
    ]
    if not ballots_counted:
        header.remove("ballots_counted")
        for r in rows:
            del r[len(candidates) + 2]
    name = f"Clarity {contest!r} snapshots"
    try:
        return _count_from_rows(header, rows, name=name, line_numbers=range(1, len(rows) + 1))
    except CountFormatError as exc:
        if exc.row is None:
            raise
        raise CountFormatError(
            f"{exc.reason} (snapshot {exc.row} of {len(rows)} in time order)",
            source=snaps[exc.row - 1]["path"],
            column=exc.column,
        ) from None


def _clarity_type_map(type_map: Mapping[str, str] | None) -> dict[str, str]:
    merged = {k.strip().lower(): v for k, v in CLARITY_VOTE_TYPES.items()}
    for k, v in (type_map or {}).items():
        if not isinstance(v, str) or not _TYPE_RE.match(v):
            raise ForecastInputError(
                f"type_map[{k!r}] = {v!r}: batch types are snake_case labels such as "
                f"{_snake(str(v)) or 'mail'!r}"
            )
        merged[str(k).strip().lower()] = v
    return merged


def _clarity_xml(path: Path, label: str) -> bytes:
    raw = _read_bytes(path, label)
    if raw[:2] != b"PK":
        return raw
    try:
        with zipfile.ZipFile(_io.BytesIO(raw)) as archive:
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
    row: Any = None  # the value is an attribute, not on a row
    return _parse_int(raw, source=label, row=row, column="ballotsCast", what="ballotsCast")


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
            bt = mapping.get(str(r.vote_type).strip().lower()) or _snake(str(r.vote_type)) or "mixed"
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


def _clarity_release_types(snaps: list[dict[str, Any]]) -> tuple[list[str | None], list[str]]:
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
    for i, t in enumerate(picked):
        if t is None:
            before = next((x for x in reversed(picked[:i]) if x is not None), None)
            after = next((x for x in picked[i + 1 :] if x is not None), None)
            t = before or after or "mixed"
        filled.append(t)
    return filled, notes  # type: ignore[return-value]
