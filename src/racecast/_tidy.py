"""A tidy table (one row per release and candidate) → the validated fields of a count.

Used by [`Count.from_frame`][racecast.Count.from_frame]: the table is checked for
the problems only a tidy table can have (a missing key, a candidate listed twice
in a release, a release with two batch types), then widened into the table of
strings every reader validates, so its cells are checked exactly as in a CSV
file.  An error in the wide table is pointed back at the tidy table's own row
(its position plus 2, its line in ``df.to_csv(index=False)``) and column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._format import OUTSTANDING_PREFIX, RESERVED_COLUMNS, TEXT_COLUMNS
from ._table import CountFields, fields_from_rows
from .errors import CountFormatError

__all__ = ["fields_from_frame"]


@dataclass(frozen=True)
class _Columns:
    """The names of the tidy table's key columns."""

    release: str
    batch_type: str
    candidate: str
    votes: str


@dataclass(frozen=True)
class _Releases:
    """The tidy rows grouped by release: ``by_release[r][candidate]`` is a row position."""

    releases: list[str]
    first_row: dict[str, int]
    by_release: dict[str, dict[str, int]]
    batch_types: list[str]
    candidates: list[str]


def _is_missing(x: object) -> bool:
    try:
        r = pd.isna(x)
    except (TypeError, ValueError):
        return False
    return bool(r) if isinstance(r, (bool, np.bool_)) else False


def _frame_key(x: object) -> str:
    """A release, candidate or batch-type label as text ("" when missing)."""
    return "" if _is_missing(x) else str(x).strip()


def _cell_str(x: object) -> str:
    """A numeric cell as the text a CSV file would hold; validation happens later."""
    if _is_missing(x):
        return ""
    if isinstance(x, (float, np.floating)):
        f = float(x)
        return str(int(f)) if f.is_integer() else repr(f)
    return str(x)


def _time_str(x: object) -> str:
    if _is_missing(x):
        return ""
    if isinstance(x, (pd.Timestamp, np.datetime64)) or hasattr(x, "isoformat"):
        try:
            return pd.Timestamp(x).isoformat()
        except (ValueError, TypeError, OverflowError):
            return str(x)
    return str(x).strip()


def _check_frame(df: object, cols: _Columns, name: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise CountFormatError(
            f"Count.from_frame needs a pandas DataFrame, got {type(df).__name__}", source=name
        )
    dup = df.columns[df.columns.duplicated()]
    if len(dup):
        raise CountFormatError(
            "the table has two columns of this name", source=name, row=1, column=str(dup[0])
        )
    for col in (cols.release, cols.batch_type, cols.candidate, cols.votes):
        if col not in df.columns:
            raise CountFormatError(
                f"missing column; a tidy count needs {cols.release!r}, {cols.batch_type!r}, "
                f"{cols.candidate!r} and {cols.votes!r}",
                source=name,
                column=col,
            )
    if len(df) == 0:
        raise CountFormatError("the table has no rows (no releases)", source=name)
    return df


def _keys(df: pd.DataFrame, cols: _Columns, name: str) -> tuple[list[str], list[str], list[str]]:
    """The release, candidate and batch-type labels of each row, none missing, no reserved candidate name."""
    rel_key = [_frame_key(x) for x in df[cols.release].tolist()]
    cand_key = [_frame_key(x) for x in df[cols.candidate].tolist()]
    bt_key = [_frame_key(x) for x in df[cols.batch_type].tolist()]
    for col, keys in ((cols.release, rel_key), (cols.candidate, cand_key), (cols.batch_type, bt_key)):
        for i, k in enumerate(keys):
            if k == "":
                raise CountFormatError(
                    f"{col} is missing; every row needs one", source=name, row=i + 2, column=col
                )
    for i, c in enumerate(cand_key):
        if c in RESERVED_COLUMNS or c.startswith(OUTSTANDING_PREFIX):
            raise CountFormatError(
                f"candidate name {c!r} is a reserved column name of the count format; rename the candidate",
                source=name,
                row=i + 2,
                column=cols.candidate,
            )
    return rel_key, cand_key, bt_key


def _group(df: pd.DataFrame, cols: _Columns, name: str) -> _Releases:
    """Rows by release: one row per candidate in each release, one batch type per release."""
    rel_key, cand_key, bt_key = _keys(df, cols, name)
    first_row: dict[str, int] = {}
    by_release: dict[str, dict[str, int]] = {}
    for i, (r, c) in enumerate(zip(rel_key, cand_key, strict=True)):
        first = first_row.setdefault(r, i)
        cells = by_release.setdefault(r, {})
        if c in cells:
            raise CountFormatError(
                f"the same (release, candidate) appears twice: release {r}, candidate {c!r}",
                source=name,
                row=i + 2,
                column=cols.candidate,
            )
        cells[c] = i
        if bt_key[i] != bt_key[first]:
            raise CountFormatError(
                f"release {r} has rows with batch types {bt_key[first]!r} and {bt_key[i]!r}; a release has "
                "one batch type (the kind of ballots that made up most of it)",
                source=name,
                row=i + 2,
                column=cols.batch_type,
            )
    cands = list(dict.fromkeys(cand_key))
    for r in first_row:
        missing = [c for c in cands if c not in by_release[r]]
        if missing:
            raise CountFormatError(
                f"release {r} has no row for candidate {missing[0]!r}; every release needs every candidate's "
                "cumulative votes (0 if none)",
                source=name,
                row=first_row[r] + 2,
                column=cols.candidate,
            )
    releases = list(first_row)
    return _Releases(releases, first_row, by_release, [bt_key[first_row[r]] for r in releases], cands)


def _per_release(cells: list[str], g: _Releases, name: str, column: str) -> list[str]:
    """One value per release: its rows may repeat it or leave it blank, not disagree."""
    col: list[str] = []
    for r in g.releases:
        vals = list(dict.fromkeys(v for v in (cells[i] for i in g.by_release[r].values()) if v))
        if len(vals) > 1:
            raise CountFormatError(
                f"release {r} has rows with different {column} values {vals[0]!r} and {vals[1]!r}; "
                "it is one value per release",
                source=name,
                row=g.first_row[r] + 2,
                column=column,
            )
        col.append(vals[0] if vals else "")
    return col


def _outstanding(
    outstanding: pd.DataFrame | Mapping[str, float], g: _Releases, name: str
) -> dict[str, list[str]]:
    """The ``outstanding_<type>`` columns.

    A mapping applies to the last release; a table is indexed by release.
    """
    table: dict[str, list[str]] = {}
    n = len(g.releases)
    if isinstance(outstanding, Mapping):
        for t_name, amount in outstanding.items():
            col = OUTSTANDING_PREFIX + _frame_key(t_name)
            if _is_missing(amount):
                raise CountFormatError(
                    f"outstanding[{t_name!r}] is missing ({amount!r}); give a number, or leave the type out",
                    source=name,
                    column=col,
                )
            table[col] = [""] * (n - 1) + [_cell_str(amount)]
    elif isinstance(outstanding, pd.DataFrame):
        keys = [_frame_key(x) for x in outstanding.index]
        if len(set(keys)) != len(keys):
            raise CountFormatError("outstanding: a release appears twice in its index", source=name)
        unknown = [k for k in keys if k not in g.first_row]
        if unknown:
            raise CountFormatError(
                f"outstanding: the table's index has {unknown[0]!r}, which is not a release of the count "
                f"(releases: {g.releases[:5]}{' ...' if n > 5 else ''}); index it by release",
                source=name,
            )
        for t_name in outstanding.columns:
            by_key = dict(zip(keys, outstanding[t_name].tolist(), strict=True))
            table[OUTSTANDING_PREFIX + _frame_key(t_name)] = [_cell_str(by_key.get(r)) for r in g.releases]
    else:
        raise CountFormatError(
            "outstanding must be a mapping {type: amount} or a DataFrame, "
            f"got {type(outstanding).__name__}",
            source=name,
        )
    return table


def fields_from_frame(
    df: pd.DataFrame,
    *,
    release: str,
    batch_type: str,
    candidate: str,
    votes: str,
    outstanding: pd.DataFrame | Mapping[str, float] | None,
    name: str,
) -> CountFields:
    """The validated fields of a count given as a tidy table.

    See [`Count.from_frame`][racecast.Count.from_frame] for the table and the errors.
    """
    cols = _Columns(release, batch_type, candidate, votes)
    df = _check_frame(df, cols, name)
    g = _group(df, cols, name)
    vote_cells = df[votes].tolist()
    table: dict[str, list[str]] = {"release": g.releases, "batch_type": g.batch_types}
    if "released_at" in df.columns:
        table["released_at"] = _per_release([_time_str(t) for t in df["released_at"]], g, name, "released_at")
    for c in g.candidates:
        table[c] = [_cell_str(vote_cells[g.by_release[r][c]]) for r in g.releases]
    if isinstance(outstanding, pd.Series):
        outstanding = outstanding.to_dict()
    if outstanding is not None:
        table.update(_outstanding(outstanding, g, name))
    for text in TEXT_COLUMNS:
        if text in df.columns:
            table[text] = _per_release([_frame_key(v) for v in df[text]], g, name, text)
    header = list(table)
    rows = [[table[h][i] for h in header] for i in range(len(g.releases))]
    lines = [g.first_row[r] + 2 for r in g.releases]
    try:
        return fields_from_rows(header, rows, name=name, lines=lines)
    except CountFormatError as exc:
        raise _frame_error(exc, lines, g, cols) from None


def _frame_error(exc: CountFormatError, lines: list[int], g: _Releases, cols: _Columns) -> CountFormatError:
    """Point an error of the wide table at the tidy table's own row and column."""
    cands = set(g.candidates)
    if exc.row in lines:
        r = g.releases[lines.index(exc.row)]
        if exc.column in cands:
            i = g.by_release[r][exc.column]
            return CountFormatError(
                f"candidate {exc.column!r}: {exc.reason}", source=exc.source, row=i + 2, column=cols.votes
            )
        col = {"release": cols.release, "batch_type": cols.batch_type}.get(exc.column or "", exc.column)
        return CountFormatError(exc.reason, source=exc.source, row=exc.row, column=col)
    if exc.row == 1 and exc.column in cands:
        i = min(rows[exc.column] for rows in g.by_release.values() if exc.column in rows)
        return CountFormatError(
            f"candidate {exc.column!r}: {exc.reason}", source=exc.source, row=i + 2, column=cols.candidate
        )
    return exc
