"""The mistakes users really make in a count table, each recognised once and explained.

[`validate_table`][racecast._table.validate_table] asks these before (or instead of)
reporting cell after cell: votes typed per release instead of running totals,
shares or percentages instead of votes, outstanding columns under another prefix
(``remaining_late_mail``), and numbers written with thousands separators.  Each
answer is one [`CountFormatError`][racecast.CountFormatError] that says what the
table looks like and what to do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ._format import OUTSTANDING_PREFIX, RESERVED_COLUMNS, TYPE_RE, decimal_value, snake, thousands_separated
from .errors import CountFormatError

__all__ = [
    "check_candidate_name",
    "has_separators",
    "per_release_problem",
    "percent_rows_problem",
    "separator_cells",
    "shares_problem",
    "thousands_problem",
]

#: Words that say "still to be counted" in a column name, before or after the batch type.
_OUTSTANDING_WORDS = (
    "remaining",
    "uncounted",
    "not_counted",
    "left_to_count",
    "yet_to_count",
    "still_to_count",
    "to_count",
    "to_be_counted",
    "unprocessed",
    "outstanding",
)
#: Vote shares written as ``52.345`` look like a thousands-separated ``52,345``: not called shares.
_DOT_THOUSANDS = 3
#: What a batch type's name is made of: a column ``<type>_remaining`` must contain one of these.
_TYPE_WORDS = (
    "mail",
    "provisional",
    "vote",
    "election",
    "early",
    "late",
    "absentee",
    "person",
    "vbm",
    "drop",
    "mixed",
    "uocava",
    "overseas",
)


def _other_outstanding_prefix(label: str) -> str | None:
    """The batch type of a column named like ``remaining_late_mail`` or ``late_mail_remaining``."""
    for word in _OUTSTANDING_WORDS:
        rest = None
        if label.startswith(word + "_"):
            rest = label[len(word) + 1 :]
        elif label.endswith("_" + word) and any(w in label for w in _TYPE_WORDS):
            rest = label[: -len(word) - 1]
        if rest is not None:
            rest = rest.removeprefix("ballots_").removesuffix("_ballots")
            if rest and rest != "ballots" and TYPE_RE.match(rest) and not rest.startswith("outstanding"):
                return rest
    return None


def check_candidate_name(h: str, name: str) -> None:
    """A candidate column must not look like a reserved or outstanding column spelt differently."""
    label = snake(h)
    if label in RESERVED_COLUMNS:
        raise CountFormatError(
            f"looks like the reserved column {label!r} but is spelt differently, so it would be read as a "
            f"candidate; rename it to {label!r} (reserved names are lower-case, exactly as in the data "
            "format)",
            source=name,
            row=1,
            column=h,
        )
    if label.startswith("outstanding") and label != "outstanding":
        rest = label[len("outstanding") :].strip("_") or "late_mail"
        raise CountFormatError(
            f"looks like an outstanding-ballot column, which would be read as a candidate; name it "
            f"{OUTSTANDING_PREFIX + rest!r}",
            source=name,
            row=1,
            column=h,
        )
    other = _other_outstanding_prefix(label)
    if other is not None:
        raise CountFormatError(
            f"looks like an outstanding-ballot column with another prefix, which would be read as a "
            f"candidate; did you mean {OUTSTANDING_PREFIX + other!r}? (ballots still to be counted are "
            "given in columns named outstanding_<type>)",
            source=name,
            row=1,
            column=h,
        )


def shares_problem(
    cells: Sequence[Sequence[str]], lines: Sequence[int], columns: Sequence[str], name: str
) -> CountFormatError | None:
    """The candidate cells (one list per row) written as shares or percentages with decimals, if so.

    They are when every number is at most 100 and most have decimals, or when each
    row sums to about 1 or about 100.  Whole-number percentages are found after the
    cells are read ([`percent_rows_problem`][racecast._mistakes.percent_rows_problem]).
    """
    values = [[decimal_value(c) for c in row] for row in cells]
    numbers = [v for row in values for v in row if v is not None]
    if not numbers or max(numbers) > 100:
        return None
    fractional = [
        (i, j)
        for i, row in enumerate(values)
        for j, v in enumerate(row)
        if v is not None and not v.is_integer()
    ]
    dotted = [cells[i][j].strip().split(".") for i, j in fractional]
    if not fractional or all(d[0][:1] not in ("", "0") and len(d[1]) == _DOT_THOUSANDS for d in dotted):
        return None
    sums = [sum(v for v in row if v is not None) for row in values if None not in row]
    about = next((t for t in (1.0, 100.0) if sums and all(abs(s - t) <= 0.02 * t for s in sums)), None)
    if about is None and 2 * len(fractional) <= sum(len(row) for row in cells):
        return None
    i, j = fractional[0]
    why = (
        f"each row sums to about {about:g}" if about else "every value is at most 100 and most have decimals"
    )
    return CountFormatError(
        f"votes must be whole numbers, got {cells[i][j]!r}: the candidate columns look like vote shares or "
        f"percentages ({why}), not votes; give each candidate's cumulative votes (whole numbers of votes)",
        source=name,
        row=lines[i],
        column=columns[j],
    )


def percent_rows_problem(
    votes: np.ndarray, lines: Sequence[int], candidates: Sequence[str], name: str
) -> CountFormatError | None:
    """Whole-number percentages: every row sums to about 100 and some candidate's "votes" go down."""
    if votes.shape[0] < 2:
        return None
    sums = votes.sum(axis=1)
    down = np.argwhere(np.diff(votes, axis=0) < 0)
    if not ((sums >= 98) & (sums <= 102)).all() or not len(down):
        return None
    i, j = int(down[0][0]) + 1, int(down[0][1])
    return CountFormatError(
        f"the candidate columns look like percentages, not votes: every row sums to about 100 and "
        f"{candidates[j]!r} goes down from {votes[i - 1, j]} to {votes[i, j]}; give each candidate's "
        "cumulative votes (whole numbers of votes)",
        source=name,
        row=lines[i],
        column=candidates[j],
    )


_BIG_DROP_VOTES = 1000
"""A drop of the total this large (and ``_BIG_DROP_SHARE`` of it) is not a correction."""
_BIG_DROP_SHARE = 0.2


def per_release_problem(votes: np.ndarray, lines: Sequence[int], name: str) -> CountFormatError | None:
    """Votes typed per release instead of running totals: the total goes down at most releases.

    Only drops no registrar correction makes count: at least 1,000 votes and a fifth of what
    was counted before (``_BIG_DROP``). Small counts whose totals fall by a few votes are left
    to the correction rule (merged with a warning), never refused.
    """
    totals = votes.sum(axis=1)
    change = np.diff(totals)
    down = np.flatnonzero(change < 0)
    big = (-change >= _BIG_DROP_VOTES) & (-change >= _BIG_DROP_SHARE * totals[:-1])
    steps = len(totals) - 1
    if int(big.sum()) < 2 or 2 * len(down) <= steps:
        return None
    i = int(down[0]) + 1
    return CountFormatError(
        f"the candidate columns look like the votes of each release, not running totals: the total goes "
        f"down at {len(down)} of {steps} releases (here from {totals[i - 1]:,} to {totals[i]:,}); give "
        "each candidate's cumulative votes after each release (a running total: each row adds its "
        "release's votes to the row before, e.g. a spreadsheet's cumulative sum)",
        source=name,
        row=lines[i],
    )


def thousands_problem(first: CountFormatError, cells: Sequence[tuple[int, str, str]]) -> CountFormatError:
    """The first thousands-separator problem, saying how many cells have one (when more than one)."""
    if len(cells) < 2:
        return first
    line, column, raw = cells[0]
    return CountFormatError(
        f"{first.reason}; {len(cells)} cells use thousands separators, e.g. row {line} column {column!r} "
        f"{raw.strip()!r}: write every number without them",
        source=first.source,
        row=first.row,
        column=first.column,
    )


def has_separators(
    column: str | None, raw: str | None, candidates: Sequence[str], outstanding: Sequence[str]
) -> bool:
    """Whether the cell ``raw`` of a number column is refused only for its thousands separators."""
    if column is None or raw is None:
        return False
    if column in candidates:
        return thousands_separated(raw, whole=True)
    numeric = column == "ballots_counted" or column in outstanding
    return numeric and thousands_separated(raw, whole=False)


def separator_cells(
    rows: Sequence[Sequence[str]],
    lines: Sequence[int],
    index: Mapping[str, int],
    candidates: Sequence[str],
    outstanding: Sequence[str],
) -> list[tuple[int, str, str]]:
    """Every number cell written with thousands separators, ``(line, column, cell)`` in file order."""
    columns = [*candidates, *[c for c in ("ballots_counted",) if c in index], *outstanding]
    found = []
    for row, line in zip(rows, lines, strict=False):
        if len(row) == len(index):
            for c in columns:
                raw = "" if row[index[c]] is None else str(row[index[c]])
                if has_separators(c, raw, candidates, outstanding):
                    found.append((line, c, raw))
    return found
