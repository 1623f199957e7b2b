"""Files in, text and CSV records out: the one copy of reading a path or buffer, decoding and CSV looping."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ..errors import CountFormatError

__all__ = ["csv_records", "decode", "read_bytes", "read_text", "short_name"]


def read_bytes(path: Path, label: str, *, kind: str = "file") -> bytes:
    """The bytes of ``path``.

    A missing or unreadable file is a [`CountFormatError`][racecast.CountFormatError].
    """
    try:
        return path.read_bytes()
    except FileNotFoundError:
        looked = "" if str(path) == label else f" (looked for {path})"
        raise CountFormatError(f"file not found{looked}", source=label) from None
    except IsADirectoryError:
        raise CountFormatError(f"is a directory, not a {kind}", source=label) from None
    except (OSError, ValueError) as exc:
        raise CountFormatError(f"cannot be read ({exc.__class__.__name__}: {exc})", source=label) from None


def decode(raw: bytes, label: str) -> str:
    """UTF-8 (with or without a byte-order mark); anything else is refused with what to do."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(raw) > 1 and raw[1:2] == b"\x00" and raw[:1] != b"\x00"):
        raise CountFormatError(
            "the file is UTF-16 text; save it as UTF-8 (in Excel: 'CSV UTF-8 (comma delimited)')",
            source=label,
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CountFormatError(
            f"not UTF-8 text ({exc.reason} at byte {exc.start}); save the file as UTF-8 "
            "(in Excel: 'CSV UTF-8 (comma delimited)'); racecast does not guess encodings",
            source=label,
        ) from None


def short_name(path_or_buffer: object) -> str | None:
    """The file name of a path or of an open file (``None`` for a buffer without one).

    A count is named by its file, never by where it was installed:
    ``.../racecast/data/la_mayor_2022_general.csv`` is ``la_mayor_2022_general.csv``.
    """
    where = path_or_buffer if isinstance(path_or_buffer, (str, os.PathLike)) else None
    if where is None:
        where = getattr(path_or_buffer, "name", None)
    if not isinstance(where, (str, os.PathLike)) or str(where) == "":
        return None
    return Path(where).name or str(where)


def read_text(
    path_or_buffer: str | os.PathLike[str] | IO[str],
    *,
    name: str | None,
    reader: str,
    kind: str,
    full_path: bool = True,
) -> tuple[str, str]:
    """The text of a path or an open buffer, and the label that names it in messages.

    The label is ``name`` when given, else the path as given (``full_path``) or
    its file name (see [`short_name`][racecast.io._text.short_name]).
    """
    if not name and not full_path:
        name = short_name(path_or_buffer)
    if isinstance(path_or_buffer, (str, os.PathLike)):
        label = name or str(Path(path_or_buffer))
        if isinstance(path_or_buffer, str) and "\n" in path_or_buffer:
            raise CountFormatError(
                "this looks like CSV text, not a path; pass io.StringIO(text) to read text", source="<text>"
            )
        return decode(read_bytes(Path(path_or_buffer), label, kind=kind), label), label
    label = str(name or getattr(path_or_buffer, "name", None) or "<buffer>")
    if not hasattr(path_or_buffer, "read"):
        raise CountFormatError(
            f"{reader} needs a path or an open text file, got {type(path_or_buffer).__name__}", source=label
        )
    raw = path_or_buffer.read()
    if not isinstance(raw, (str, bytes)):
        raise CountFormatError(f"reading the buffer gave {type(raw).__name__}, not text", source=label)
    return (decode(raw, label) if isinstance(raw, bytes) else raw.lstrip("\ufeff")), label


def csv_records(text: str, label: str) -> Iterator[tuple[int, list[str]]]:
    """The non-blank records of a CSV text, each with the line it starts on (the first line is 1).

    Records are read one at a time, so a problem further down the file is
    raised only after the records before it have been used.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    end = 0  # a record runs from the line after the previous one ends (a quoted field may span lines)
    try:
        for record in reader:
            line, end = end + 1, reader.line_num
            if record and any(f.strip() for f in record):  # blank lines separate nothing and hold no data
                yield line, record
    except csv.Error as exc:
        raise CountFormatError(
            f"not a readable CSV file ({exc})", source=label, row=reader.line_num
        ) from None
