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
    return _count_from_rows(header, rows, name=label, line_numbers=lines)
