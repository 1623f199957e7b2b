"""Readers: files in, validated :class:`~racecast.count.Count` out.

Every reader funnels through the same validation (``racecast.count``), so a bad
file gets the same clear :class:`~racecast.errors.CountFormatError` naming the
file, row and column whatever its origin.
"""

from __future__ import annotations

import csv
import io as _io
import os
from importlib import resources
from pathlib import Path
from typing import IO

from .count import Count, _count_from_rows
from .errors import CountFormatError

__all__ = ["read_count", "example_path"]


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
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise CountFormatError("file not found", source=label) from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CountFormatError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", source=label) from None
    else:
        label = name or getattr(path_or_buffer, "name", None) or "<buffer>"
        text = path_or_buffer.read()
        if isinstance(text, bytes):
            text = text.decode("utf-8-sig")
        text = text.lstrip("\ufeff")
    return _parse_csv_text(text, label)


def _parse_csv_text(text: str, label: str) -> Count:
    reader = csv.reader(_io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for record in reader:
            line = reader.line_num
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
    if len(header) == 1 and ";" in header[0]:
        raise CountFormatError(
            "the header has a single column containing ';': racecast reads comma-separated files",
            source=label,
            row=1,
        )
    return _count_from_rows(header, rows, name=label, line_numbers=lines)
