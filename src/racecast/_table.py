"""A table of strings (header, rows and their line numbers) → the validated fields of a count.

Every reader ends here, and so does [`Count.from_frame`][racecast.Count.from_frame]:
the table is checked in one pass that collects every problem it can find (a
[`CountFormatError`][racecast.CountFormatError] each, naming the file, row and
column), so that reading a count raises the first and ``racecast validate``
lists them all.  A problem in the header or the table's shape stops the check;
a bad cell is replaced by a stand-in so the cells after it are still checked;
a row with the wrong number of fields, or a bad ``release`` number, is left out
of the ordering checks of the rows after it.

Nothing is dropped or "fixed": a release whose cumulative votes go down (a
registrar correction) is kept as published and announced with a
[`CorrectionWarning`][racecast.CorrectionWarning].
"""

from __future__ import annotations

import itertools
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar

import numpy as np
import pandas as pd

from ._format import (
    EXPECTED_TOTAL,
    OUTSTANDING_PREFIX,
    OUTSTANDING_TOTAL,
    RESERVED_COLUMNS,
    TEXT_COLUMNS,
    TYPE_RE,
    invisible,
    parse_int,
    parse_optional_number,
    parse_released_at,
    snake,
)
from ._mistakes import (
    check_candidate_name,
    has_separators,
    per_release_problem,
    percent_rows_problem,
    separator_cells,
    shares_problem,
    thousands_problem,
)
from .errors import CorrectionWarning, CountFormatError

__all__ = ["CountFields", "fields_from_rows", "validate_table"]

_T = TypeVar("_T")


CountFields: TypeAlias = dict[str, Any]
"""The validated keyword arguments of a [`Count`][racecast.Count] (its fields, by name)."""


@dataclass(frozen=True)
class _Layout:
    """What each column of a valid header is."""

    index: dict[str, int]
    candidates: list[str]
    outstanding: list[str]
    text: Sequence[str]


@dataclass
class _Releases:
    """The rows accepted so far (stand-ins in place of bad cells) and what the next row must follow."""

    lines: list[int] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    votes: list[list[int]] = field(default_factory=list)
    release_ids: list[int] = field(default_factory=list)
    times: list[pd.Timestamp | None] = field(default_factory=list)
    ballots: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    expected: list[float] = field(default_factory=list)
    outstanding: list[list[float]] = field(default_factory=list)
    text: list[list[str]] = field(default_factory=list)
    last_time: pd.Timestamp | None = None


def _check_header(header: Sequence[str], name: str) -> None:
    """Column names: non-empty, visible, unique, and no near-miss of a reserved name."""
    for j, h in enumerate(header):
        if h == "":
            raise CountFormatError(
                f"column {j + 1} has an empty name; every candidate column needs the candidate's name "
                "(an empty column left at the end by a spreadsheet must be deleted)",
                source=name,
                row=1,
            )
        bad = invisible(h)
        if bad is not None:
            raise CountFormatError(
                f"column name contains the invisible character U+{ord(bad):04X} "
                f"({unicodedata.name(bad, 'control character')}); retype the name "
                "(a byte-order mark or control character from a copy-paste or a concatenated file?)",
                source=name,
                row=1,
                column=h,
            )
    seen: dict[str, str] = {}
    for h in header:
        key = unicodedata.normalize("NFC", h)
        if key in seen:
            same = seen[key] == h
            raise CountFormatError(
                "duplicate column name; candidate names must be unique"
                + ("" if same else " (the two are the same name written with different Unicode forms)"),
                source=name,
                row=1,
                column=h,
            )
        seen[key] = h
    if "batch_type" not in header:
        near = [h for h in header if snake(h) == "batch_type"]
        raise CountFormatError(
            "missing required column; every release needs the type of ballots that made up most of it "
            "(early_mail, vote_center, election_day, late_mail, provisional, mixed, ...)"
            + (f"; rename the column {near[0]!r} to 'batch_type'" if near else ""),
            source=name,
            column="batch_type",
        )
    for h in header:
        if h not in RESERVED_COLUMNS and not h.startswith(OUTSTANDING_PREFIX):
            check_candidate_name(h, name)


def _layout(header: list[str], name: str, *, has_rows: bool) -> _Layout:
    """The columns of a usable header, or the first problem that makes the table unusable."""
    _check_header(header, name)
    outstanding = [h for h in header if h.startswith(OUTSTANDING_PREFIX) and h != OUTSTANDING_TOTAL]
    candidates = [h for h in header if h not in RESERVED_COLUMNS and not h.startswith(OUTSTANDING_PREFIX)]
    if len(candidates) < 2:
        raise CountFormatError(
            f"a count needs at least two candidate columns, found {candidates}; every column that is not "
            f"one of {list(RESERVED_COLUMNS)} or outstanding_<type> is a candidate",
            source=name,
            row=1,
        )
    if not has_rows:
        raise CountFormatError("the count has no releases (no data rows)", source=name)
    for col in outstanding:
        t = col[len(OUTSTANDING_PREFIX) :]
        if not TYPE_RE.match(t):
            raise CountFormatError(
                f"outstanding columns are outstanding_<type> with a snake_case type, e.g. "
                f"{OUTSTANDING_PREFIX + (snake(t) if TYPE_RE.match(snake(t)) else 'late_mail')!r}",
                source=name,
                row=1,
                column=col,
            )
    index = {h: j for j, h in enumerate(header)}
    text = [c for c in TEXT_COLUMNS if c in index]  # kept as published, never checked
    return _Layout(index=index, candidates=candidates, outstanding=outstanding, text=text)


def _batch_type(raw: str, *, source: str, row: int) -> str:
    bt = raw.strip()
    if bt == "":
        raise CountFormatError(
            "batch_type is empty; name the kind of ballots that made up most of this release "
            "(e.g. early_mail, vote_center, late_mail, or mixed when unknown)",
            source=source,
            row=row,
            column="batch_type",
        )
    if not TYPE_RE.match(bt):
        raise CountFormatError(
            f"batch_type must be a snake_case label (a-z, 0-9, _), got {bt!r}; did you mean "
            f"{snake(bt) if TYPE_RE.match(snake(bt)) else 'mixed'!r}?",
            source=source,
            row=row,
            column="batch_type",
        )
    return bt


def _release(raw: str, previous: int | None, *, source: str, row: int) -> int:
    rid = parse_int(raw, source=source, row=row, column="release", what="release", maximum=10**18)
    if previous is not None and rid <= previous:
        raise CountFormatError(
            f"release numbers must increase down the file ({previous} then {rid})",
            source=source,
            row=row,
            column="release",
        )
    return rid


def _released_at(raw: str, previous: pd.Timestamp | None, *, source: str, row: int) -> pd.Timestamp | None:
    s = raw.strip()
    if not s:
        return None
    ts = parse_released_at(s, source=source, row=row)
    if previous is not None and ts < previous:
        raise CountFormatError(
            f"released_at goes back in time ({previous.isoformat()} then {ts.isoformat()}); "
            "rows must be in release order",
            source=source,
            row=row,
            column="released_at",
        )
    return ts


def _add_row(
    cell: dict[str, str], line: int, lay: _Layout, acc: _Releases, name: str
) -> list[CountFormatError]:
    """Check one row's cells in column-check order; keep the row unless its release number is bad."""
    found: list[CountFormatError] = []

    def attempt(parse: Callable[..., _T], raw: str, stand_in: _T, **kw: Any) -> _T:
        try:
            return parse(raw, source=name, row=line, **kw)
        except CountFormatError as exc:
            found.append(exc)
            return stand_in

    bt = attempt(_batch_type, cell["batch_type"], "mixed")
    votes = [attempt(parse_int, cell[c], 0, column=c, what="votes") for c in lay.candidates]
    kept = True
    rid = len(acc.release_ids) + 1
    if "release" in lay.index:
        previous = acc.release_ids[-1] if acc.release_ids else None
        got = attempt(_release, cell["release"], None, previous=previous)
        kept, rid = got is not None, got or 0
    at = attempt(_released_at, cell.get("released_at", ""), None, previous=acc.last_time if kept else None)
    ballots = float("nan")
    if "ballots_counted" in lay.index:
        ballots = attempt(
            parse_optional_number,
            cell["ballots_counted"],
            ballots,
            column="ballots_counted",
            what="ballots_counted",
        )
    totals = {
        col: attempt(parse_optional_number, cell[col], float("nan"), column=col, what=col)
        if col in lay.index
        else float("nan")
        for col in (OUTSTANDING_TOTAL, EXPECTED_TOTAL)
    }
    outstanding = [
        attempt(parse_optional_number, cell[c], float("nan"), column=c, what=c) for c in lay.outstanding
    ]
    if kept:
        acc.lines.append(line)
        acc.types.append(bt)
        acc.votes.append(votes)
        acc.release_ids.append(rid)
        acc.times.append(at)
        acc.last_time = at if at is not None else acc.last_time
        acc.ballots.append(ballots)
        acc.total.append(totals[OUTSTANDING_TOTAL])
        acc.expected.append(totals[EXPECTED_TOTAL])
        acc.outstanding.append(outstanding)
        acc.text.append([cell[c] for c in lay.text])
    return found


def validate_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    name: str,
    lines: Sequence[int] | None = None,
    limit: int = 1,
) -> tuple[CountFields | None, list[CountFormatError]]:
    """Check a table of strings in one pass, collecting up to ``limit`` problems.

    Parameters
    ----------
    header, rows
        The column names and the data rows, as strings.
    name
        The file (or table) named in messages.
    lines
        Each row's line in the file (default: 2, 3, ...; the header is line 1).
    limit
        Stop after this many problems.

    Returns
    -------
    tuple
        The validated fields and ``[]`` when the table is valid, else ``None``
        and the problems, row by row.  A problem in the header or the table's
        shape is the only one reported.
    """
    names = ["" if h is None else str(h).strip() for h in header]
    at_line = list(lines) if lines is not None else [i + 2 for i in range(len(rows))]
    try:
        lay = _layout(names, name, has_rows=bool(rows))
    except CountFormatError as exc:
        return None, [exc]
    whole = [(i, r) for i, r in enumerate(rows) if len(r) == len(names)]
    cells = [[str(r[lay.index[c]] or "") for c in lay.candidates] for _, r in whole]
    shares = shares_problem(cells, [at_line[i] for i, _ in whole], lay.candidates, name)
    if shares is not None:
        return None, [shares]
    acc = _Releases()
    problems: list[CountFormatError] = []
    separators: list[tuple[int, str, str]] | None = None
    for row, line in zip(rows, at_line, strict=False):
        if len(problems) >= limit:
            break
        if len(row) != len(names):
            problems.append(
                CountFormatError(
                    f"has {len(row)} fields but the header has {len(names)}; quote any field that contains a "
                    "comma, and write numbers without thousands separators",
                    source=name,
                    row=line,
                )
            )
            continue
        cell = {h: ("" if row[j] is None else str(row[j])) for h, j in lay.index.items()}
        for problem in _add_row(cell, line, lay, acc, name):
            if has_separators(
                problem.column, cell.get(problem.column or ""), lay.candidates, lay.outstanding
            ):
                if separators is not None:
                    continue  # reported once, with the count of such cells
                separators = separator_cells(rows, at_line, lay.index, lay.candidates, lay.outstanding)
                problem = thousands_problem(problem, separators)
            problems.append(problem)
    if problems:
        return None, problems[:limit]
    fields = _fields(lay, acc, name)
    votes = fields["votes"]
    mistake = percent_rows_problem(votes, acc.lines, lay.candidates, name) or per_release_problem(
        votes, acc.lines, name
    )
    return (None, [mistake]) if mistake is not None else (fields, [])


def _fields(lay: _Layout, acc: _Releases, name: str) -> CountFields:
    n = len(acc.lines)
    outstanding_types = pd.Index([c[len(OUTSTANDING_PREFIX) :] for c in lay.outstanding], name="batch_type")
    return {
        "candidates": tuple(lay.candidates),
        "votes": np.array(acc.votes, dtype=np.int64).reshape(n, len(lay.candidates)),
        "release_batch_types": tuple(acc.types),
        "release_ids": np.array(acc.release_ids, dtype=np.int64),
        "released_at": pd.Series(pd.to_datetime(acc.times, utc=True), name="released_at"),
        "ballots_counted": np.array(acc.ballots, dtype=float),
        "outstanding_total": np.array(acc.total, dtype=float),
        "expected_total": np.array(acc.expected, dtype=float),
        "outstanding": pd.DataFrame(
            np.array(acc.outstanding, dtype=float).reshape(n, len(lay.outstanding)), columns=outstanding_types
        ),
        "text": pd.DataFrame({c: [t[k] for t in acc.text] for k, c in enumerate(lay.text)}),
        "name": name,
    }


def fields_from_rows(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    name: str,
    lines: Sequence[int] | None = None,
) -> CountFields:
    """The validated fields of a table of strings; raises its first problem, warns of corrections."""
    fields, problems = validate_table(header, rows, name=name, lines=lines)
    if fields is None:
        raise problems[0]
    warn_corrections(fields, list(lines) if lines is not None else [i + 2 for i in range(len(rows))])
    return fields


def warn_corrections(fields: CountFields, lines: Sequence[int]) -> None:
    """A [`CorrectionWarning`][racecast.CorrectionWarning] for each cumulative total that went down."""
    votes, name, candidates = fields["votes"], fields["name"], fields["candidates"]
    inc = votes[1:] - votes[:-1]
    for i, j in zip(*np.nonzero(inc < 0), strict=True):
        warnings.warn(
            f"{name}, row {lines[i + 1]}, column {candidates[j]!r}: cumulative votes went down from "
            f"{votes[i, j]:,} to {votes[i + 1, j]:,} (a correction); kept as published, "
            "and the model merges this release into the batch before it",
            CorrectionWarning,
            stacklevel=4,
        )
    ballots = fields["ballots_counted"]
    finite = np.flatnonzero(np.isfinite(ballots))
    for a, b in itertools.pairwise(finite):
        if ballots[b] < ballots[a]:
            warnings.warn(
                f"{name}, row {lines[int(b)]}, column 'ballots_counted': went down from "
                f"{ballots[a]:,.0f} to {ballots[b]:,.0f} (a correction); kept as published",
                CorrectionWarning,
                stacklevel=4,
            )
