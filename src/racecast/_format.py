"""The cell grammar of a count: column names, batch-type labels, numbers and times.

One copy of each rule, used by every reader and by
[`Count.from_frame`][racecast.Count.from_frame]; what is accepted is
described in ``docs/data-format.md`` and ``docs/reliability.md``.  A cell that
breaks a rule raises a [`CountFormatError`][racecast.CountFormatError] naming
the file, row and column and what to do.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from .errors import CountFormatError, ForecastInputError

__all__ = [
    "MAX_NUMBER",
    "OUTSTANDING_PREFIX",
    "EXPECTED_TOTAL",
    "TOTAL_LABELS",
    "OUTSTANDING_TOTAL",
    "RESERVED_COLUMNS",
    "TEXT_COLUMNS",
    "TYPE_RE",
    "decimal_value",
    "expected_at_last",
    "last_reported",
    "invisible",
    "parse_int",
    "parse_optional_number",
    "parse_released_at",
    "snake",
    "thousands_separated",
    "TimeZone",
    "resolve_timezone",
]

#: The column of a projected final total (ballots, or contest votes), used when nothing is published.
EXPECTED_TOTAL = "expected_total"
#: How every view (the notebook status, the live report) names the two per-release totals
#: beside a split by type: a published outstanding total, and a projected final total.
TOTAL_LABELS = ("outstanding total", "projected final total")
#: Columns with a fixed meaning; every other column is a candidate.
RESERVED_COLUMNS = (
    "release",
    "released_at",
    "batch_type",
    "ballots_counted",
    EXPECTED_TOTAL,
    "source",
    "note",
    "place",
)
#: Text columns of a count, kept as published: where a release's row came from, a note, and
#: the place its ballots came from (a county, a district; blank when several or unknown),
#: which gives the batch its place's lean (``Priors.place_sd``) and can scale its variance by
#: size within the place (``Priors.batch_size_floor``).
TEXT_COLUMNS = ("source", "note", "place")
#: Prefix of the outstanding-ballot columns, e.g. ``outstanding_late_mail``.
OUTSTANDING_PREFIX = "outstanding_"
#: The column of an outstanding total published without a split by type (not a batch type).
OUTSTANDING_TOTAL = "outstanding_total"
#: A batch-type label: snake_case, starting with a letter.
TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*$")

#: Largest number accepted in a vote, ballot or outstanding cell (more than the
#: world's population): a bigger value is a mistake (cells run together, an
#: identifier in the wrong column) and would overflow the int64 arithmetic.
MAX_NUMBER = 10**10

#: Whole numbers: ASCII digits, optionally with a zero decimal part ("1234.0", as
#: spreadsheets and pandas write integer columns that have a blank cell).
_WHOLE_RE = re.compile(r"[0-9]+(?:\.0*)?")
#: Plain decimal numbers (optional numeric columns: ballots, outstanding).
_DECIMAL_RE = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
#: Numbers written with thousands separators ("1,234", "1.234.567", "1 234", "1'234").
_THOUSANDS_RE = re.compile(r"[+-]?[0-9]{1,3}(?:([,.' \u00a0\u202f_])[0-9]{3})(?:\1[0-9]{3})*(?:\.[0-9]*)?")
#: Scientific notation ("1.23E+05"), which spreadsheets use after rounding.
_SCIENTIFIC_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+")
#: ISO 8601 date and time, with or without a UTC offset (checked separately).
_ISO_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
    r"(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)
#: What spreadsheets and databases write for a missing or broken number.
_NOT_A_NUMBER = ("nan", "inf", "infinity", "na", "n/a", "null", "none", "#n/a", "#value!")


def snake(label: str) -> str:
    """``label`` as a snake_case label: ASCII, lower case, runs of other characters as ``_``."""
    ascii_label = unicodedata.normalize("NFKD", str(label)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "_", ascii_label.strip().lower()).strip("_")


def invisible(text: str) -> str | None:
    """The first control or invisible formatting character in ``text`` (e.g. a stray BOM), if any."""
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"):
            return ch
    return None


def thousands_separated(raw: object, *, whole: bool) -> bool:
    """Whether a cell is refused only because it is written with thousands separators (``1,234``)."""
    s = "" if raw is None else str(raw).strip()
    accepted = (_WHOLE_RE if whole else _DECIMAL_RE).fullmatch(s)
    return not accepted and s[:1] not in "+-0" and _THOUSANDS_RE.fullmatch(s) is not None


def decimal_value(raw: object) -> float | None:
    """The value of a plain decimal cell (``52.3``, ``0.48``, ``12``), else ``None``."""
    s = "" if raw is None else str(raw).strip()
    return float(s) if _DECIMAL_RE.fullmatch(s) else None


def _number_problem(s: str, raw: object, *, what: str, whole: bool) -> str:
    """Why the (stripped, non-blank) cell ``s`` is not an acceptable number: a message with a hint."""
    kind = "a whole number" if whole else "a number or blank"
    body = s[1:] if s[:1] in "+-" else s
    if s.startswith("-") and (_DECIMAL_RE.fullmatch(body) or _THOUSANDS_RE.fullmatch(body)):
        return f"{what} cannot be negative, got {raw!r}"
    if s.lower().lstrip("+-") in _NOT_A_NUMBER:
        missing = " (a missing value?)" if "n" in s.lower() and "inf" not in s.lower() else ""
        return f"{what} must be {kind} and finite, got {raw!r}{missing}"
    if _THOUSANDS_RE.fullmatch(s):
        if whole and re.fullmatch(r"[0-9]+\.[0-9]+", s):
            return f"{what} must be a whole number, got {raw!r} (if '.' separates thousands, remove it)"
        return (
            f"{what} must be written without thousands separators, got {raw!r} (remove thousands separators)"
        )
    if _SCIENTIFIC_RE.fullmatch(s):
        return (
            f"{what} is in scientific notation ({raw!r}), which spreadsheets write after rounding; "
            "export the exact number (format the column as a number with no exponent)"
        )
    if s[:1] == "+" and (_DECIMAL_RE.fullmatch(body) or body.isdecimal()):
        return f"{what} must be {kind} written without a sign, got {raw!r}"
    if not s.isascii() and body.replace(".", "", 1).isdecimal():
        return f"{what} must be written with the ASCII digits 0-9, got {raw!r}"
    return f"{what} must be {kind}, got {raw!r}"


def _parse_number(
    raw: object, *, source: str, row: int | None, column: str, what: str, whole: bool, maximum: int
) -> float:
    s = "" if raw is None else str(raw).strip()
    if s == "":
        return float("nan")
    ok = (_WHOLE_RE if whole else _DECIMAL_RE).fullmatch(s)
    if not ok:
        raise CountFormatError(
            _number_problem(s, raw, what=what, whole=whole), source=source, row=row, column=column
        )
    digits = s.split(".")[0].lstrip("0")
    if len(digits) > len(str(maximum)) or (whole and int(digits or "0") > maximum) or float(s) > maximum:
        shown = repr(raw) if len(s) <= 40 else repr(s[:37] + "...")
        raise CountFormatError(
            f"{what} is implausibly large, got {shown}; the largest accepted is {maximum:,}. "
            "Check for cells run together or an identifier in the wrong column",
            source=source,
            row=row,
            column=column,
        )
    return float(int(digits or "0")) if whole else float(s)


def parse_int(
    raw: str, *, source: str, row: int | None, column: str, what: str, maximum: int = MAX_NUMBER
) -> int:
    """A required whole number ``0 <= n <= maximum``; see ``docs/reliability.md`` for what is accepted."""
    s = "" if raw is None else str(raw).strip()
    if s == "":
        raise CountFormatError(
            f"{what} is blank; every release needs a value here", source=source, row=row, column=column
        )
    _parse_number(s, source=source, row=row, column=column, what=what, whole=True, maximum=maximum)
    return int(s.split(".")[0])


def parse_optional_number(raw: str, *, source: str, row: int | None, column: str, what: str) -> float:
    """An optional non-negative number (``nan`` when blank); plain decimal notation only."""
    return _parse_number(
        raw, source=source, row=row, column=column, what=what, whole=False, maximum=MAX_NUMBER
    )


def parse_released_at(raw: str, *, source: str, row: int | None) -> pd.Timestamp:
    """A non-blank ``released_at`` cell: ISO 8601 with a UTC offset, returned in UTC."""
    try:
        if not _ISO_RE.fullmatch(raw):
            raise ValueError(raw)
        ts = pd.Timestamp(raw)
    except (ValueError, TypeError, OverflowError):
        raise CountFormatError(
            f"released_at must be ISO 8601 with a UTC offset (e.g. 2022-11-08T20:55-08:00), got {raw!r}",
            source=source,
            row=row,
            column="released_at",
        ) from None
    if ts is pd.NaT or ts.tzinfo is None:
        raise CountFormatError(
            f"released_at needs a UTC offset (e.g. 2022-11-08T20:55-08:00), got {raw!r}",
            source=source,
            row=row,
            column="released_at",
        )
    return ts.tz_convert("UTC")


#: A time zone: an IANA name (``"America/Los_Angeles"``), a ``tzinfo``, or ``None`` for UTC.
TimeZone = str | dt.tzinfo | None


def resolve_timezone(tz: TimeZone) -> dt.tzinfo:
    """``tz`` as a ``tzinfo`` (UTC when ``None``); an unknown IANA name is an input error."""
    if tz is None:
        return dt.UTC
    if isinstance(tz, dt.tzinfo):
        return tz
    try:
        return ZoneInfo(str(tz))
    except (KeyError, ValueError):
        raise ForecastInputError(
            f"unknown time zone {tz!r}; give an IANA name such as 'America/Los_Angeles'"
        ) from None


def expected_at_last(expected: np.ndarray, total: float) -> np.ndarray:
    """A copy of the per-release ``expected`` with ``total`` at the last release, checked."""
    value = float(total)
    if not np.isfinite(value) or value < 0 or value > MAX_NUMBER:
        raise ValueError(f"expected total must be a finite number from 0 to {MAX_NUMBER:,}, got {total!r}")
    out = np.array(expected, dtype=float)
    out[-1] = value
    return out


def last_reported(values: np.ndarray) -> int | None:
    """Index of the last non-blank (finite) value of a per-release column, or ``None`` when none is."""
    known = np.flatnonzero(np.isfinite(values))
    return int(known[-1]) if known.size else None
