"""Count files (CSV): [`read_count`][racecast.read_count] and the problem listing of ``racecast validate``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from .._table import fields_from_rows, validate_table, warn_corrections
from ..count import Count
from ..errors import CountFormatError
from ._text import csv_records, read_text

__all__ = ["count_problems", "read_count"]


def read_count(path_or_buffer: str | os.PathLike[str] | IO[str], *, name: str | None = None) -> Count:
    """Read a count file (CSV) into a validated [`Count`][racecast.Count].

    The format is described in ``docs/data-format.md``: one row per release with
    cumulative votes per candidate, a ``batch_type`` column, and optional
    ``release``, ``released_at``, ``ballots_counted``, ``outstanding_<type>``,
    ``source`` and ``note`` columns.

    Parameters
    ----------
    path_or_buffer
        A path, or an open text buffer.
    name
        The count's name, used in its messages and views (default: the file
        name, e.g. ``la_mayor_2022_general.csv``, never the folder it is in).

    Returns
    -------
    Count
        The validated count, one release per data row.

    Raises
    ------
    CountFormatError
        With the file, row and column of the first problem found.

    Warns
    -----
    CorrectionWarning
        For each release that lowered a cumulative total (kept as published).

    Examples
    --------
    >>> import racecast
    >>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    >>> count.batch_types
    ('early_mail', 'vote_center', 'late_mail', 'provisional')
    """
    text, label = read_text(
        path_or_buffer, name=name, reader="read_count", kind="count file", full_path=False
    )
    header, rows, lines = _csv_table(text, label)
    return Count(**fields_from_rows(header, rows, name=label, lines=lines))


def count_problems(
    path: str | os.PathLike[str], *, limit: int = 100
) -> tuple[Count | None, list[CountFormatError]]:
    """Every problem of a count file that can be found in one pass, not only the first.

    Parameters
    ----------
    path
        The count file.
    limit
        Stop after this many problems.

    Returns
    -------
    tuple
        The count and ``[]`` when the file is valid (its corrections are
        warned of as by [`read_count`][racecast.read_count]), else ``None``
        and the problems row by row, each a
        [`CountFormatError`][racecast.CountFormatError] naming the file, row
        and column.  A problem with the file itself or its header is the only
        one listed: nothing after it can be checked.
    """
    try:
        text, label = read_text(
            Path(path), name=None, reader="count_problems", kind="count file", full_path=False
        )
        header, rows, lines = _csv_table(text, label)
    except CountFormatError as exc:
        return None, [exc]
    fields, problems = validate_table(header, rows, name=label, lines=lines, limit=limit)
    if fields is None:
        return None, problems
    warn_corrections(fields, lines)
    return Count(**fields), []


def _csv_table(text: str, label: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, data rows and their line numbers of a count CSV (blank lines skipped)."""
    records = list(csv_records(text, label))
    if not records:
        raise CountFormatError("the file is empty (no header row)", source=label)
    header = records[0][1]
    if "batch_type" not in [h.strip() for h in header]:
        for sep, sep_name in ((";", "semicolons"), ("\t", "tabs"), ("|", "'|'")):
            if any(f.strip() == "batch_type" for h in header for f in h.split(sep)):
                raise CountFormatError(
                    f"the columns are separated by {sep_name}: racecast reads comma-separated files; "
                    "save the file as CSV with ',' between fields (and '.' for decimals, no thousands "
                    "separators)",
                    source=label,
                    row=1,
                )
    return header, [r for _, r in records[1:]], [line for line, _ in records[1:]]
