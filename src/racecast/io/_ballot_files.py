"""The three files of a ballot, each checked in one pass: releases, contests and their columns.

Shared by [`read_ballot`][racecast.read_ballot]: a file is read into a header, rows
and their line numbers; its header is checked against the columns the format
allows; every row problem found is collected (a
[`CountFormatError`][racecast.CountFormatError] each, naming the file, row and
column and what to do) rather than stopping at the first.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from .._format import OUTSTANDING_PREFIX, TEXT_COLUMNS, TYPE_RE, parse_int, parse_optional_number, snake
from .._table import _batch_type, _release, _released_at
from ..errors import CountFormatError
from ._text import csv_records, read_text

__all__ = ["Contests", "Problems", "Releases", "Table", "parse_contests", "parse_releases", "read_table"]

_T = TypeVar("_T")

#: Columns of ``releases.csv`` besides ``outstanding_<type>``: required, then optional.
RELEASE_COLUMNS = (
    ("release", "batch_type"),
    ("released_at", "ballots_counted", "outstanding_total", "expected_total", *TEXT_COLUMNS),
)
#: Columns of ``contests.csv``: required, then optional.
CONTEST_COLUMNS = (("contest",), ("contest_group", "type", "vote_for", "measure_pass_rate", "n_candidates"))

_PASS_RATE = re.compile(
    r"^\s*(?:(?P<majority>majority)|(?P<pct>[0-9]+(?:\.[0-9]+)?)\s*%|(?P<num>[0-9]+)\s*/\s*(?P<den>[0-9]+))"
    r"(?:\s+of\s+(?:the\s+)?votes\s+cast)?\s*$",
    re.IGNORECASE,
)


class Problems:
    """The problems found so far, up to ``limit``; ``attempt`` parses a cell or records why it cannot."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.found: list[CountFormatError] = []

    @property
    def full(self) -> bool:
        """Whether ``limit`` problems have been found."""
        return len(self.found) >= self.limit

    def add(self, message: str, *, source: str, row: int | None = None, column: str | None = None) -> None:
        """Record a problem."""
        if not self.full:
            self.found.append(CountFormatError(message, source=source, row=row, column=column))

    def attempt(self, parse: Callable[..., _T], raw: str, stand_in: _T, **kw: Any) -> _T:
        """``parse(raw, **kw)``, or ``stand_in`` with the problem recorded."""
        try:
            return parse(raw, **kw)
        except CountFormatError as exc:
            if not self.full:
                self.found.append(exc)
            return stand_in


@dataclass(frozen=True)
class Table:
    """A CSV file as strings: its label, column positions, rows and their line numbers."""

    label: str
    index: dict[str, int]
    rows: list[list[str]]
    lines: list[int]

    def cells(self, problems: Problems) -> list[tuple[int, dict[str, str]]]:
        """``(line, {column: cell})`` for each row with as many fields as the header (others recorded)."""
        out = []
        for row, line in zip(self.rows, self.lines, strict=True):
            if len(row) != len(self.index):
                problems.add(
                    f"has {len(row)} fields but the header has {len(self.index)}; quote any field that "
                    "contains a comma",
                    source=self.label,
                    row=line,
                )
                continue
            out.append((line, {h: row[j].strip() for h, j in self.index.items()}))
        return out


def read_table(
    path: Path, columns: tuple[tuple[str, ...], tuple[str, ...]], *, outstanding: bool = False
) -> Table:
    """A ballot file's rows, its header checked: required columns present, none unknown or repeated."""
    text, label = read_text(path, name=None, reader="read_ballot", kind="ballot file")
    records = list(csv_records(text, label))
    if not records:
        raise CountFormatError("the file is empty (no header row)", source=label)
    header = [h.strip() for h in records[0][1]]
    required, optional = columns
    known = [*required, *optional]
    for j, h in enumerate(header):
        if h in header[:j]:
            raise CountFormatError("duplicate column name", source=label, row=1, column=h)
        if h in known:
            continue
        if outstanding and h.startswith(OUTSTANDING_PREFIX):
            if not TYPE_RE.match(h[len(OUTSTANDING_PREFIX) :]):
                raise CountFormatError(
                    "outstanding columns are outstanding_<type> with a snake_case type, "
                    "e.g. outstanding_late_mail",
                    source=label,
                    row=1,
                    column=h,
                )
            continue
        label = snake(h)
        near = difflib.get_close_matches(label, known, n=1)
        if outstanding and not near and "_" in label:  # remaining_late_mail, left_late_mail ...
            near = [OUTSTANDING_PREFIX + label.split("_", 1)[1]]
        raise CountFormatError(
            f"unknown column; {path.name} has the columns {known}"
            + (" and outstanding_<type>" if outstanding else "")
            + (f"; did you mean {near[0]!r}?" if near else "")
            + " (see docs/ballot-format.md)",
            source=label,
            row=1,
            column=h,
        )
    for col in required:
        if col not in header:
            raise CountFormatError(f"missing required column {col!r}", source=label, row=1, column=col)
    if len(records) < 2:
        raise CountFormatError("the file has a header but no rows", source=label)
    return Table(
        label, {h: j for j, h in enumerate(header)}, [r for _, r in records[1:]], [n for n, _ in records[1:]]
    )


@dataclass
class Releases:
    """The jurisdiction's releases as read from ``releases.csv``."""

    label: str
    ids: list[int] = field(default_factory=list)
    times: list[pd.Timestamp | None] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    ballots: list[float] = field(default_factory=list)
    outstanding: dict[str, list[float]] = field(default_factory=dict)
    total: list[float] = field(default_factory=list)
    expected: list[float] = field(default_factory=list)
    text: dict[str, list[str]] = field(default_factory=dict)


def parse_releases(table: Table, problems: Problems) -> Releases:
    """Every release row of ``releases.csv``; a row with a bad ``release`` number is left out."""
    src = table.label
    out = Releases(src, outstanding={c: [] for c in table.index if c.startswith(OUTSTANDING_PREFIX)})
    out.outstanding.pop("outstanding_total", None)
    out.text = {c: [] for c in TEXT_COLUMNS if c in table.index}
    last_time = None
    for line, cell in table.cells(problems):
        previous = out.ids[-1] if out.ids else None
        rid = problems.attempt(_release, cell["release"], None, previous=previous, source=src, row=line)
        bt = problems.attempt(_batch_type, cell["batch_type"], "mixed", source=src, row=line)
        at = problems.attempt(
            _released_at, cell.get("released_at", ""), None, previous=last_time, source=src, row=line
        )
        numbers = {}
        for col in ("ballots_counted", "outstanding_total", "expected_total", *out.outstanding):
            numbers[col] = problems.attempt(
                parse_optional_number,
                cell.get(col, ""),
                float("nan"),
                source=src,
                row=line,
                column=col,
                what=col,
            )
        if rid is None:
            continue
        out.ids.append(rid)
        out.times.append(at)
        last_time = at if at is not None else last_time
        out.types.append(bt)
        out.ballots.append(numbers["ballots_counted"])
        out.total.append(numbers["outstanding_total"])
        out.expected.append(numbers["expected_total"])
        for col, values in out.outstanding.items():
            values.append(numbers[col])
        for col, texts in out.text.items():
            texts.append(cell[col])
    if np.isfinite(out.expected).any() and not np.isfinite(out.ballots).any():
        problems.add(
            "expected_total is the jurisdiction's projected final ballots, and each contest's share of "
            "them is learnt from ballots_counted, which is never reported; add ballots_counted, or give "
            "each contest its own expected total in contest votes (Count.with_expected_total)",
            source=src,
            column="expected_total",
        )
    return out


@dataclass
class Contests:
    """Each contest's metadata from ``contests.csv``, in file order, and the line it is on."""

    label: str
    line: dict[str, int] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        """One row per contest, index ``contest``."""
        cols = [
            "contest",
            "contest_group",
            "type",
            "vote_for",
            "measure_pass_rate",
            "pass_share",
            "n_candidates",
        ]
        df = pd.DataFrame(self.rows, columns=cols).set_index("contest")
        df["vote_for"] = df["vote_for"].astype("Int64")
        df["n_candidates"] = df["n_candidates"].astype("Int64")
        return df


def pass_share(raw: str, *, source: str, row: int) -> Fraction | None:
    """A measure's pass rate as a share: ``Majority of votes cast`` → 1/2, ``55% ...`` → 11/20."""
    if raw == "":
        return None
    m = _PASS_RATE.match(raw)
    share = None
    if m is not None:
        if m["majority"]:
            share = Fraction(1, 2)
        elif m["pct"]:
            share = Fraction(m["pct"]) / 100
        elif int(m["den"]) > 0:
            share = Fraction(int(m["num"]), int(m["den"]))
    if share is None or not 0 < share < 1:
        raise CountFormatError(
            f"measure_pass_rate {raw!r} is not a pass rate; write 'Majority of votes cast', "
            "'55% of votes cast' or '2/3 of votes cast' (a share strictly between 0 and 1), "
            "or leave it blank",
            source=source,
            row=row,
            column="measure_pass_rate",
        )
    return share


def _optional_int(raw: str, *, source: str, row: int, column: str) -> int | None:
    if raw == "":
        return None
    n = parse_int(raw, source=source, row=row, column=column, what=column, maximum=10**6)
    if n < 1:
        raise CountFormatError(
            f"{column} must be at least 1 (or blank), got {raw!r}", source=source, row=row, column=column
        )
    return n


def parse_contests(table: Table, problems: Problems) -> Contests:
    """Every contest row of ``contests.csv``; a row without a usable name is left out."""
    src = table.label
    out = Contests(src)
    for line, cell in table.cells(problems):
        name = cell["contest"]
        if name == "" or name in out.line:
            why = (
                "is blank; every contest needs its name"
                if name == ""
                else f"repeats row {out.line.get(name)}"
            )
            problems.add(f"contest {why}", source=src, row=line, column="contest")
            continue
        out.line[name] = line
        kw: dict[str, Any] = {"source": src, "row": line}
        out.rows.append(
            {
                "contest": name,
                "contest_group": cell.get("contest_group", ""),
                "type": cell.get("type", ""),
                "vote_for": problems.attempt(
                    _optional_int, cell.get("vote_for", ""), None, column="vote_for", **kw
                ),
                "measure_pass_rate": cell.get("measure_pass_rate", ""),
                "pass_share": problems.attempt(pass_share, cell.get("measure_pass_rate", ""), None, **kw),
                "n_candidates": problems.attempt(
                    _optional_int, cell.get("n_candidates", ""), None, column="n_candidates", **kw
                ),
            }
        )
    return out


def release_arrays(rel: Releases) -> dict[str, Any]:
    """The jurisdiction fields of a [`Ballot`][racecast.Ballot] (and of each contest's count)."""
    types = pd.Index([c[len(OUTSTANDING_PREFIX) :] for c in rel.outstanding], name="batch_type")
    n = len(rel.ids)
    return {
        "release_ids": np.array(rel.ids, dtype=np.int64),
        "released_at": pd.Series(pd.to_datetime(rel.times, utc=True), name="released_at"),
        "release_batch_types": tuple(rel.types),
        "ballots_counted": np.array(rel.ballots, dtype=float),
        "outstanding": pd.DataFrame(
            np.array(list(rel.outstanding.values()), dtype=float).reshape(-1, n).T, columns=types
        ),
        "outstanding_total": np.array(rel.total, dtype=float),
        "expected_total": np.array(rel.expected, dtype=float),
        "text": pd.DataFrame(rel.text),
    }
