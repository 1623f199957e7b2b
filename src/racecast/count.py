"""The validated vote count: releases x candidates, batch types and outstanding ballots.

A :class:`Count` is what every reader produces and what the model consumes.  It
holds the *cumulative* votes per candidate after each results release, the batch
type that made up most of each release, optionally the ballots counted in the
whole reporting jurisdiction, and the outstanding-ballot estimates by type.

Nothing is dropped or "fixed" here: a release whose cumulative votes go down (a
registrar correction) is kept as published and announced with a
:class:`~racecast.errors.CorrectionWarning`; how the model uses it is documented
in :func:`Count.batches`.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .errors import CorrectionWarning, CountFormatError

__all__ = ["MAX_NUMBER", "OUTSTANDING_PREFIX", "RESERVED_COLUMNS", "Count"]

#: Columns with a fixed meaning; every other column is a candidate.
RESERVED_COLUMNS = ("release", "released_at", "batch_type", "ballots_counted", "source", "note")
#: Prefix of the outstanding-ballot columns, e.g. ``outstanding_late_mail``.
OUTSTANDING_PREFIX = "outstanding_"

_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*$")

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


def _snake(label: str) -> str:
    ascii_label = unicodedata.normalize("NFKD", str(label)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "_", ascii_label.strip().lower()).strip("_")


def _invisible(text: str) -> str | None:
    """The first control or invisible formatting character in ``text`` (e.g. a stray BOM), if any."""
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"):
            return ch
    return None


@dataclass(frozen=True, eq=False)
class Count:
    """A vote count as it stood after each of its releases.

    Build one with :func:`racecast.read_count` (CSV) or :meth:`Count.from_frame`
    (tidy table); the constructor expects already-validated arrays.

    Attributes
    ----------
    candidates : tuple of str
        Candidate names, in file order.
    votes : numpy.ndarray
        ``(n_releases, n_candidates)`` cumulative votes after each release.
    release_batch_types : tuple of str
        Batch type of each release.
    release_ids : numpy.ndarray
        Release numbers (from the ``release`` column, else 1..n).
    released_at : pandas.Series
        Release times (UTC, ``NaT`` when not given).
    ballots_counted : numpy.ndarray
        Cumulative ballots counted in the whole jurisdiction (``nan`` when blank).
    outstanding : pandas.DataFrame
        Outstanding ballots (or votes, see :attr:`outstanding_unit`) by type, one
        row per release, ``nan`` where not reported.
    text : pandas.DataFrame
        The optional ``source`` and ``note`` columns, kept as published.
    name : str
        Where the count came from (a file name), used in messages.

    Examples
    --------
    >>> import racecast
    >>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    >>> len(count), count.candidates
    (10, ('Karen Bass', 'Rick Caruso'))
    >>> count[:4].totals["Rick Caruso"] - count[:4].totals["Karen Bass"]
    np.int64(2695)
    """

    candidates: tuple[str, ...]
    votes: np.ndarray
    release_batch_types: tuple[str, ...]
    release_ids: np.ndarray
    released_at: pd.Series
    ballots_counted: np.ndarray
    outstanding: pd.DataFrame
    text: pd.DataFrame
    name: str = "<count>"

    # ------------------------------------------------------------------ basics
    def __len__(self) -> int:
        return int(self.votes.shape[0])

    def __getitem__(self, key: slice) -> Count:
        """The count as it stood after its first ``k`` releases: ``count[:k]``."""
        if not isinstance(key, slice):
            raise TypeError("index a Count with a slice from its start, e.g. count[:k]")
        start, stop, step = key.start, key.stop, key.step
        if start not in (None, 0) or step not in (None, 1):
            raise ValueError(
                "a Count is cumulative: only slices from the first release are meaningful, "
                "e.g. count[:k] or count[:-1]"
            )
        idx = slice(0, stop)
        n = len(range(*idx.indices(len(self))))
        if n < 1:
            raise ValueError("count[:k] needs k >= 1: a count has at least one release")
        return Count(
            candidates=self.candidates,
            votes=self.votes[:n].copy(),
            release_batch_types=self.release_batch_types[:n],
            release_ids=self.release_ids[:n].copy(),
            released_at=self.released_at.iloc[:n].reset_index(drop=True),
            ballots_counted=self.ballots_counted[:n].copy(),
            outstanding=self.outstanding.iloc[:n].reset_index(drop=True),
            text=self.text.iloc[:n].reset_index(drop=True),
            name=self.name,
        )

    def __repr__(self) -> str:
        lead = self.totals.sort_values(ascending=False)
        top = ", ".join(f"{c} {v:,}" for c, v in lead.head(3).items())
        return (
            f"<Count {self.name!r}: {len(self)} releases, {len(self.candidates)} candidates, "
            f"types {list(self.batch_types)}; totals {top}>"
        )

    @property
    def n_candidates(self) -> int:
        """Number of candidates."""
        return len(self.candidates)

    @property
    def batch_types(self) -> tuple[str, ...]:
        """Every batch type the count knows: counted types in order of first release,
        then types that are only reported as outstanding."""
        seen = list(dict.fromkeys(self.release_batch_types))
        for t in self.outstanding.columns:
            if t not in seen:
                seen.append(t)
        return tuple(seen)

    @property
    def counted_types(self) -> tuple[str, ...]:
        """Batch types with at least one release, in order of first release."""
        return tuple(dict.fromkeys(self.release_batch_types))

    @property
    def totals(self) -> pd.Series:
        """Cumulative votes per candidate after the last release."""
        return pd.Series(self.votes[-1], index=pd.Index(self.candidates, name="candidate"), name="votes")

    @property
    def has_ballots(self) -> bool:
        """Whether ``ballots_counted`` is reported (then outstanding counts are ballots)."""
        return bool(np.isfinite(self.ballots_counted).any())

    @property
    def outstanding_unit(self) -> str:
        """``"ballots"`` (jurisdiction ballots) when ``ballots_counted`` is reported, else ``"votes"``."""
        return "ballots" if self.has_ballots else "votes"

    @property
    def releases(self) -> pd.DataFrame:
        """The count as a table, one row per release, in the file's column layout."""
        df = pd.DataFrame(
            {
                "release": self.release_ids,
                "released_at": self.released_at.to_numpy(),
                "batch_type": list(self.release_batch_types),
            }
        )
        for j, c in enumerate(self.candidates):
            df[c] = self.votes[:, j]
        df["ballots_counted"] = pd.array(
            [None if not np.isfinite(b) else int(b) for b in self.ballots_counted], dtype="Int64"
        )
        for t in self.outstanding.columns:
            df[OUTSTANDING_PREFIX + t] = self.outstanding[t].to_numpy()
        for col in self.text.columns:
            df[col] = self.text[col].to_numpy()
        return df.set_index("release")

    @property
    def increments(self) -> pd.DataFrame:
        """Votes added by each release (negative entries are corrections)."""
        prev = np.vstack([np.zeros((1, self.n_candidates), dtype=np.int64), self.votes[:-1]])
        return pd.DataFrame(
            self.votes - prev,
            index=pd.Index(self.release_ids, name="release"),
            columns=pd.Index(self.candidates, name="candidate"),
        )

    @property
    def corrections(self) -> list[int]:
        """Release numbers whose cumulative votes went down for some candidate."""
        inc = self.increments.to_numpy()
        return [int(r) for r, bad in zip(self.release_ids, (inc < 0).any(axis=1)) if bad]

    # ------------------------------------------------------------ model views
    def latest_outstanding(self) -> dict[str, tuple[float, int]]:
        """Latest reported outstanding estimate per type, at or before the last release.

        Returns
        -------
        dict
            ``{batch_type: (outstanding, release_number)}`` for every type with a
            reported (non-blank) value.
        """
        out: dict[str, tuple[float, int]] = {}
        for t in self.outstanding.columns:
            col = self.outstanding[t].to_numpy(dtype=float)
            ok = np.flatnonzero(np.isfinite(col))
            if ok.size:
                i = int(ok[-1])
                out[t] = (float(col[i]), int(self.release_ids[i]))
        return out

    def batches(self) -> pd.DataFrame:
        """The batches the model learns from, one row per batch.

        A batch is the votes added by one release.  A release that lowers some
        candidate's cumulative votes is a *correction*: it revises ballots that were
        already reported, so it is merged with the batch before it (repeatedly, until
        every candidate's net change is non-negative), and the merged batch takes the
        batch type of the earliest release in it.  Releases that add no votes carry
        no information and yield no batch.  The count itself is never changed.

        Returns
        -------
        pandas.DataFrame
            Columns ``first``/``last`` (0-based positions of the releases merged),
            ``batch_type``, ``ballots`` (jurisdiction ballots added, ``nan`` when
            unknown) and one column per candidate with the votes added.
        """
        rows: list[dict[str, Any]] = []
        starts: list[int] = []
        prev_votes = np.zeros(self.n_candidates, dtype=np.int64)
        for i in range(len(self)):
            inc = self.votes[i] - prev_votes
            first = i
            while (inc < 0).any() and rows:
                merged = rows.pop()
                first = starts.pop()
                inc = inc + merged["_votes"]
            starts.append(first)
            rows.append({"first": first, "last": i, "_votes": inc})
            prev_votes = self.votes[i]
        out = []
        for r in rows:
            inc = r["_votes"]
            if inc.sum() <= 0:
                continue
            rec = {
                "first": r["first"],
                "last": r["last"],
                "batch_type": self.release_batch_types[r["first"]],
            }
            rec["ballots"] = self._ballots_added(r["first"], r["last"])
            for c, v in zip(self.candidates, np.maximum(inc, 0)):
                rec[c] = int(v)
            out.append(rec)
        cols = ["first", "last", "batch_type", "ballots", *self.candidates]
        return pd.DataFrame(out, columns=cols)

    def _ballots_added(self, first: int, last: int) -> float:
        b = self.ballots_counted
        if not np.isfinite(b[last]):
            return float("nan")
        before = 0.0 if first == 0 else b[first - 1]
        return float(b[last] - before) if np.isfinite(before) else float("nan")

    def turnout_spans(self) -> pd.DataFrame:
        """Spans between releases with a reported ``ballots_counted``.

        Each span runs from one release with ``ballots_counted`` (or the start of
        the count, when no ballots were counted) to the next, and records the
        jurisdiction ballots and the contest votes added in it, and its batch type
        when every release in it has the same type (else ``None``).
        """
        known = np.flatnonzero(np.isfinite(self.ballots_counted))
        rows = []
        prev_i, prev_b, prev_v = -1, 0.0, 0
        for i in known:
            b = float(self.ballots_counted[i])
            v = int(self.votes[i].sum())
            types = set(self.release_batch_types[prev_i + 1 : i + 1])
            rows.append(
                {
                    "first": prev_i + 1,
                    "last": int(i),
                    "batch_type": types.pop() if len(types) == 1 else None,
                    "ballots": b - prev_b,
                    "votes": v - prev_v,
                }
            )
            prev_i, prev_b, prev_v = int(i), b, v
        return pd.DataFrame(rows, columns=["first", "last", "batch_type", "ballots", "votes"])

    # ------------------------------------------------------------ construction
    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        *,
        release: str = "release",
        batch_type: str = "batch_type",
        candidate: str = "candidate",
        votes: str = "votes",
        outstanding: pd.DataFrame | Mapping[str, float] | None = None,
        name: str = "<frame>",
    ) -> Count:
        """Build a count from a tidy table with one row per (release, candidate).

        Parameters
        ----------
        df
            Tidy table with columns ``release``, ``batch_type``, ``candidate`` and
            ``votes`` (cumulative votes after the release); an optional
            ``released_at`` column is used when present.
        release, batch_type, candidate, votes
            Names of those columns in ``df``.
        outstanding
            Outstanding votes by type: a mapping ``{type: n}`` applied to the last
            release, or a table indexed by release with one column per type.
        name
            Name used in error messages.

        Returns
        -------
        Count

        Raises
        ------
        CountFormatError
            For the first problem found.  Its ``row`` is the row's position in
            ``df`` plus 2, i.e. its line in ``df.to_csv(index=False)`` (the header
            is line 1), and its ``column`` is the column of ``df`` at fault.  Cells
            are checked exactly as in a CSV file (see ``docs/reliability.md``):
            votes are whole numbers (``12`` or ``12.0``), never missing.

        Examples
        --------
        >>> import pandas as pd, racecast
        >>> tidy = pd.DataFrame({"release": [1, 1, 2, 2], "batch_type": ["early_mail"] * 2 + ["late_mail"] * 2,
        ...                      "candidate": ["A", "B"] * 2, "votes": [60, 40, 110, 90]})
        >>> racecast.Count.from_frame(tidy, outstanding={"late_mail": 100}).totals.to_dict()
        {'A': 110, 'B': 90}
        """
        return _count_from_frame(
            df, release=release, batch_type=batch_type, candidate=candidate, votes=votes,
            outstanding=outstanding, name=str(name),
        )


# ---------------------------------------------------------------------------
# Tidy tables (Count.from_frame): checked for tidy-specific problems, then
# turned into the same table of strings every reader validates.
# ---------------------------------------------------------------------------
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


def _count_from_frame(
    df: pd.DataFrame,
    *,
    release: str,
    batch_type: str,
    candidate: str,
    votes: str,
    outstanding: pd.DataFrame | Mapping[str, float] | None,
    name: str,
) -> Count:
    if not isinstance(df, pd.DataFrame):
        raise CountFormatError(f"Count.from_frame needs a pandas DataFrame, got {type(df).__name__}", source=name)
    dup = df.columns[df.columns.duplicated()]
    if len(dup):
        raise CountFormatError("the table has two columns of this name", source=name, row=1, column=str(dup[0]))
    for col in (release, batch_type, candidate, votes):
        if col not in df.columns:
            raise CountFormatError(
                f"missing column; a tidy count needs {release!r}, {batch_type!r}, {candidate!r} and {votes!r}",
                source=name,
                column=col,
            )
    if len(df) == 0:
        raise CountFormatError("the table has no rows (no releases)", source=name)
    rel_key = [_frame_key(x) for x in df[release].tolist()]
    cand_key = [_frame_key(x) for x in df[candidate].tolist()]
    bt_key = [_frame_key(x) for x in df[batch_type].tolist()]
    for col, keys in ((release, rel_key), (candidate, cand_key), (batch_type, bt_key)):
        for i, k in enumerate(keys):
            if k == "":
                raise CountFormatError(f"{col} is missing; every row needs one", source=name, row=i + 2, column=col)
    for i, c in enumerate(cand_key):
        if c in RESERVED_COLUMNS or c.startswith(OUTSTANDING_PREFIX):
            raise CountFormatError(
                f"candidate name {c!r} is a reserved column name of the count format; rename the candidate",
                source=name,
                row=i + 2,
                column=candidate,
            )
    first_row: dict[str, int] = {}
    by_release: dict[str, dict[str, int]] = {}
    for i, (r, c) in enumerate(zip(rel_key, cand_key)):
        first = first_row.setdefault(r, i)
        cells = by_release.setdefault(r, {})
        if c in cells:
            raise CountFormatError(
                f"the same (release, candidate) appears twice: release {r}, candidate {c!r}",
                source=name,
                row=i + 2,
                column=candidate,
            )
        cells[c] = i
        if bt_key[i] != bt_key[first]:
            raise CountFormatError(
                f"release {r} has rows with batch types {bt_key[first]!r} and {bt_key[i]!r}; a release has one "
                "batch type (the kind of ballots that made up most of it)",
                source=name,
                row=i + 2,
                column=batch_type,
            )
    releases = list(first_row)
    cands = list(dict.fromkeys(cand_key))
    for r in releases:
        missing = [c for c in cands if c not in by_release[r]]
        if missing:
            raise CountFormatError(
                f"release {r} has no row for candidate {missing[0]!r}; every release needs every candidate's "
                "cumulative votes (0 if none)",
                source=name,
                row=first_row[r] + 2,
                column=candidate,
            )
    vote_cells = df[votes].tolist()
    table: dict[str, list[str]] = {"release": releases, "batch_type": [bt_key[first_row[r]] for r in releases]}
    if "released_at" in df.columns:
        times = df["released_at"].tolist()
        col: list[str] = []
        for r in releases:
            vals = list(dict.fromkeys(t for t in (_time_str(times[i]) for i in by_release[r].values()) if t))
            if len(vals) > 1:
                raise CountFormatError(
                    f"release {r} has rows with different times {vals[0]!r} and {vals[1]!r}",
                    source=name,
                    row=first_row[r] + 2,
                    column="released_at",
                )
            col.append(vals[0] if vals else "")
        table["released_at"] = col
    for c in cands:
        table[c] = [_cell_str(vote_cells[by_release[r][c]]) for r in releases]
    if isinstance(outstanding, pd.Series):
        outstanding = outstanding.to_dict()
    if outstanding is not None:
        if isinstance(outstanding, Mapping):
            for t_name, n in outstanding.items():
                col = OUTSTANDING_PREFIX + _frame_key(t_name)
                if _is_missing(n):
                    raise CountFormatError(
                        f"outstanding[{t_name!r}] is missing ({n!r}); give a number, or leave the type out",
                        source=name,
                        column=col,
                    )
                table[col] = [""] * (len(releases) - 1) + [_cell_str(n)]
        elif isinstance(outstanding, pd.DataFrame):
            keys = [_frame_key(x) for x in outstanding.index]
            if len(set(keys)) != len(keys):
                raise CountFormatError("outstanding: a release appears twice in its index", source=name)
            unknown = [k for k in keys if k not in first_row]
            if unknown:
                raise CountFormatError(
                    f"outstanding: the table's index has {unknown[0]!r}, which is not a release of the count "
                    f"(releases: {releases[:5]}{' ...' if len(releases) > 5 else ''}); index it by release",
                    source=name,
                )
            for t_name in outstanding.columns:
                by_key = dict(zip(keys, outstanding[t_name].tolist()))
                table[OUTSTANDING_PREFIX + _frame_key(t_name)] = [_cell_str(by_key.get(r)) for r in releases]
        else:
            raise CountFormatError(
                f"outstanding must be a mapping {{type: amount}} or a DataFrame, got {type(outstanding).__name__}",
                source=name,
            )
    header = list(table)
    rows = [[table[h][i] for h in header] for i in range(len(releases))]
    lines = [first_row[r] + 2 for r in releases]
    try:
        return _count_from_rows(header, rows, name=name, line_numbers=lines)
    except CountFormatError as exc:
        raise _frame_error(exc, lines, releases, by_release, release, batch_type, candidate, votes) from None


def _frame_error(
    exc: CountFormatError,
    lines: list[int],
    releases: list[str],
    by_release: dict[str, dict[str, int]],
    release: str,
    batch_type: str,
    candidate: str,
    votes: str,
) -> CountFormatError:
    """Point an error of the wide table at the tidy table's own row and column."""
    cands = set().union(*by_release.values())
    if exc.row in lines:
        r = releases[lines.index(exc.row)]
        if exc.column in cands:
            i = by_release[r][exc.column]
            return CountFormatError(f"candidate {exc.column!r}: {exc.reason}", source=exc.source, row=i + 2,
                                    column=votes)
        col = {"release": release, "batch_type": batch_type}.get(exc.column or "", exc.column)
        return CountFormatError(exc.reason, source=exc.source, row=exc.row, column=col)
    if exc.row == 1 and exc.column in cands:
        i = min(rows[exc.column] for rows in by_release.values() if exc.column in rows)
        return CountFormatError(f"candidate {exc.column!r}: {exc.reason}", source=exc.source, row=i + 2,
                                column=candidate)
    return exc


# ---------------------------------------------------------------------------
# Parsing and validation of a raw table of strings (shared by every reader).
# ---------------------------------------------------------------------------
def _number_problem(s: str, raw: object, *, what: str, whole: bool) -> str:
    """Why the (stripped, non-blank) cell ``s`` is not an acceptable number: a message with a hint."""
    kind = "a whole number" if whole else "a number or blank"
    body = s[1:] if s[:1] in "+-" else s
    if s.startswith("-") and (_DECIMAL_RE.fullmatch(body) or _THOUSANDS_RE.fullmatch(body)):
        return f"{what} cannot be negative, got {raw!r}"
    if s.lower().lstrip("+-") in ("nan", "inf", "infinity", "na", "n/a", "null", "none", "#n/a", "#value!"):
        missing = " (a missing value?)" if "n" in s.lower() and "inf" not in s.lower() else ""
        return f"{what} must be {kind} and finite, got {raw!r}{missing}"
    if _THOUSANDS_RE.fullmatch(s):
        if whole and re.fullmatch(r"[0-9]+\.[0-9]+", s):
            return f"{what} must be a whole number, got {raw!r} (if '.' separates thousands, remove it)"
        return f"{what} must be written without thousands separators, got {raw!r} (remove thousands separators)"
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
    raw: object, *, source: str, row: int, column: str, what: str, whole: bool, maximum: int
) -> float:
    s = "" if raw is None else str(raw).strip()
    if s == "":
        return float("nan")
    ok = (_WHOLE_RE if whole else _DECIMAL_RE).fullmatch(s)
    if not ok:
        raise CountFormatError(_number_problem(s, raw, what=what, whole=whole), source=source, row=row, column=column)
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


def _parse_int(
    raw: str, *, source: str, row: int, column: str, what: str, maximum: int = MAX_NUMBER
) -> int:
    """A required whole number ``0 <= n <= maximum``; see ``docs/reliability.md`` for what is accepted."""
    s = "" if raw is None else str(raw).strip()
    if s == "":
        raise CountFormatError(f"{what} is blank; every release needs a value here", source=source, row=row, column=column)
    _parse_number(s, source=source, row=row, column=column, what=what, whole=True, maximum=maximum)
    return int(s.split(".")[0])


def _parse_optional_number(raw: str, *, source: str, row: int, column: str, what: str) -> float:
    """An optional non-negative number (``nan`` when blank); plain decimal notation only."""
    return _parse_number(raw, source=source, row=row, column=column, what=what, whole=False, maximum=MAX_NUMBER)


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
        bad = _invisible(h)
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
        near = [h for h in header if _snake(h) == "batch_type"]
        raise CountFormatError(
            "missing required column; every release needs the type of ballots that made up most of it "
            "(early_mail, vote_center, election_day, late_mail, provisional, mixed, ...)"
            + (f"; rename the column {near[0]!r} to 'batch_type'" if near else ""),
            source=name,
            column="batch_type",
        )
    for h in header:
        if h in RESERVED_COLUMNS or h.startswith(OUTSTANDING_PREFIX):
            continue
        snake = _snake(h)
        if snake in RESERVED_COLUMNS:
            raise CountFormatError(
                f"looks like the reserved column {snake!r} but is spelt differently, so it would be read as a "
                f"candidate; rename it to {snake!r} (reserved names are lower-case, exactly as in the data format)",
                source=name,
                row=1,
                column=h,
            )
        if snake.startswith("outstanding") and snake != "outstanding":
            rest = snake[len("outstanding") :].strip("_") or "late_mail"
            raise CountFormatError(
                f"looks like an outstanding-ballot column, which would be read as a candidate; name it "
                f"{OUTSTANDING_PREFIX + rest!r}",
                source=name,
                row=1,
                column=h,
            )


def _count_from_rows(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    name: str,
    line_numbers: Sequence[int] | None,
) -> Count:
    """Validate a table of strings (header + rows) and build a :class:`Count`."""
    header = ["" if h is None else str(h).strip() for h in header]
    lines = list(line_numbers) if line_numbers is not None else [i + 2 for i in range(len(rows))]
    _check_header(header, name)
    outstanding_cols = [h for h in header if h.startswith(OUTSTANDING_PREFIX)]
    candidates = [h for h in header if h not in RESERVED_COLUMNS and h not in outstanding_cols]
    if len(candidates) < 2:
        raise CountFormatError(
            f"a count needs at least two candidate columns, found {candidates}; every column that is not "
            f"one of {list(RESERVED_COLUMNS)} or outstanding_<type> is a candidate",
            source=name,
            row=1,
        )
    if not rows:
        raise CountFormatError("the count has no releases (no data rows)", source=name)
    for col in outstanding_cols:
        t = col[len(OUTSTANDING_PREFIX) :]
        if not _TYPE_RE.match(t):
            raise CountFormatError(
                f"outstanding columns are outstanding_<type> with a snake_case type, e.g. "
                f"{OUTSTANDING_PREFIX + (_snake(t) if _TYPE_RE.match(_snake(t)) else 'late_mail')!r}",
                source=name,
                row=1,
                column=col,
            )
    idx = {h: j for j, h in enumerate(header)}
    n, k = len(rows), len(candidates)
    votes = np.zeros((n, k), dtype=np.int64)
    types: list[str] = []
    release_ids = np.arange(1, n + 1, dtype=np.int64)
    times: list[pd.Timestamp | None] = []
    ballots = np.full(n, np.nan)
    outstanding = np.full((n, len(outstanding_cols)), np.nan)
    text = {c: [] for c in ("source", "note") if c in idx}
    for i, (row, line) in enumerate(zip(rows, lines)):
        if len(row) != len(header):
            raise CountFormatError(
                f"has {len(row)} fields but the header has {len(header)}; quote any field that contains a "
                "comma, and write numbers without thousands separators",
                source=name,
                row=line,
            )
        cell = {h: ("" if row[j] is None else str(row[j])) for h, j in idx.items()}
        bt = cell["batch_type"].strip()
        if bt == "":
            raise CountFormatError(
                "batch_type is empty; name the kind of ballots that made up most of this release "
                "(e.g. early_mail, vote_center, late_mail, or mixed when unknown)",
                source=name,
                row=line,
                column="batch_type",
            )
        if not _TYPE_RE.match(bt):
            raise CountFormatError(
                f"batch_type must be a snake_case label (a-z, 0-9, _), got {bt!r}; did you mean "
                f"{_snake(bt) if _TYPE_RE.match(_snake(bt)) else 'mixed'!r}?",
                source=name,
                row=line,
                column="batch_type",
            )
        types.append(bt)
        for j, c in enumerate(candidates):
            votes[i, j] = _parse_int(cell[c], source=name, row=line, column=c, what="votes")
        if "release" in idx:
            release_ids[i] = _parse_int(
                cell["release"], source=name, row=line, column="release", what="release", maximum=10**18
            )
            if i and release_ids[i] <= release_ids[i - 1]:
                raise CountFormatError(
                    f"release numbers must increase down the file ({release_ids[i - 1]} then {release_ids[i]})",
                    source=name,
                    row=line,
                    column="release",
                )
        if "released_at" in idx and cell["released_at"].strip():
            raw = cell["released_at"].strip()
            try:
                if not _ISO_RE.fullmatch(raw):
                    raise ValueError(raw)
                ts = pd.Timestamp(raw)
            except (ValueError, TypeError, OverflowError):
                raise CountFormatError(
                    f"released_at must be ISO 8601 with a UTC offset (e.g. 2022-11-08T20:55-08:00), got {raw!r}",
                    source=name,
                    row=line,
                    column="released_at",
                ) from None
            if ts is pd.NaT or ts.tzinfo is None:
                raise CountFormatError(
                    f"released_at needs a UTC offset (e.g. 2022-11-08T20:55-08:00), got {raw!r}",
                    source=name,
                    row=line,
                    column="released_at",
                )
            ts = ts.tz_convert("UTC")
            prev = next((t for t in reversed(times) if t is not None), None)
            if prev is not None and ts < prev:
                raise CountFormatError(
                    f"released_at goes back in time ({prev.isoformat()} then {ts.isoformat()}); "
                    "rows must be in release order",
                    source=name,
                    row=line,
                    column="released_at",
                )
            times.append(ts)
        else:
            times.append(None)
        if "ballots_counted" in idx:
            ballots[i] = _parse_optional_number(
                cell["ballots_counted"], source=name, row=line, column="ballots_counted", what="ballots_counted"
            )
        for j, col in enumerate(outstanding_cols):
            outstanding[i, j] = _parse_optional_number(cell[col], source=name, row=line, column=col, what=col)
        for c in text:
            text[c].append(cell[c])
    count = Count(
        candidates=tuple(candidates),
        votes=votes,
        release_batch_types=tuple(types),
        release_ids=release_ids,
        released_at=pd.Series(pd.to_datetime(times, utc=True), name="released_at"),
        ballots_counted=ballots,
        outstanding=pd.DataFrame(
            outstanding, columns=pd.Index([c[len(OUTSTANDING_PREFIX) :] for c in outstanding_cols], name="batch_type")
        ),
        text=pd.DataFrame(text),
        name=name,
    )
    _warn_corrections(count, lines)
    return count


def _warn_corrections(count: Count, lines: Sequence[int]) -> None:
    inc = count.votes[1:] - count.votes[:-1]
    for i, j in zip(*np.nonzero(inc < 0)):
        c = count.candidates[j]
        warnings.warn(
            f"{count.name}, row {lines[i + 1]}, column {c!r}: cumulative votes went down from "
            f"{count.votes[i, j]:,} to {count.votes[i + 1, j]:,} (a correction); kept as published, "
            "and the model merges this release into the batch before it",
            CorrectionWarning,
            stacklevel=3,
        )
    finite = np.flatnonzero(np.isfinite(count.ballots_counted))
    for a, b in zip(finite[:-1], finite[1:]):
        if count.ballots_counted[b] < count.ballots_counted[a]:
            warnings.warn(
                f"{count.name}, row {lines[b]}, column 'ballots_counted': went down from "
                f"{count.ballots_counted[a]:,.0f} to {count.ballots_counted[b]:,.0f} (a correction); kept as published",
                CorrectionWarning,
                stacklevel=3,
            )
