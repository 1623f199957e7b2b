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
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .errors import CorrectionWarning, CountFormatError

__all__ = ["Count", "RESERVED_COLUMNS", "OUTSTANDING_PREFIX"]

#: Columns with a fixed meaning; every other column is a candidate.
RESERVED_COLUMNS = ("release", "released_at", "batch_type", "ballots_counted", "source", "note")
#: Prefix of the outstanding-ballot columns, e.g. ``outstanding_late_mail``.
OUTSTANDING_PREFIX = "outstanding_"

_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def _snake(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.strip().lower()).strip("_")


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

        Examples
        --------
        >>> import pandas as pd, racecast
        >>> tidy = pd.DataFrame({"release": [1, 1, 2, 2], "batch_type": ["early_mail"] * 2 + ["late_mail"] * 2,
        ...                      "candidate": ["A", "B"] * 2, "votes": [60, 40, 110, 90]})
        >>> racecast.Count.from_frame(tidy, outstanding={"late_mail": 100}).totals.to_dict()
        {'A': 110, 'B': 90}
        """
        for col in (release, batch_type, candidate, votes):
            if col not in df.columns:
                raise CountFormatError(
                    f"missing column; a tidy count needs {release!r}, {batch_type!r}, "
                    f"{candidate!r} and {votes!r}",
                    source=name,
                    column=col,
                )
        dup = df.duplicated([release, candidate])
        if dup.any():
            i = int(np.flatnonzero(dup.to_numpy())[0])
            raise CountFormatError(
                "the same (release, candidate) appears twice", source=name, row=i + 2, column=candidate
            )
        releases = list(dict.fromkeys(df[release].tolist()))
        cands = list(dict.fromkeys(df[candidate].astype(str).tolist()))
        wide = df.pivot(index=release, columns=candidate, values=votes).reindex(releases)
        wide.columns = [str(c) for c in wide.columns]
        types = df.groupby(release, sort=False)[batch_type].agg(lambda s: s.iloc[0]).reindex(releases)
        table: dict[str, list[Any]] = {"release": [str(r) for r in releases], "batch_type": types.astype(str).tolist()}
        if "released_at" in df.columns:
            t = df.groupby(release, sort=False)["released_at"].first().reindex(releases)
            table["released_at"] = ["" if pd.isna(x) else pd.Timestamp(x).isoformat() for x in t]
        for c in cands:
            table[c] = ["" if pd.isna(x) else str(x) for x in wide[c].tolist()]
        if outstanding is not None:
            if isinstance(outstanding, Mapping):
                for t_name, n in outstanding.items():
                    table[OUTSTANDING_PREFIX + t_name] = [""] * (len(releases) - 1) + [str(n)]
            else:
                ot = outstanding.reindex(releases)
                for t_name in ot.columns:
                    table[OUTSTANDING_PREFIX + str(t_name)] = ["" if pd.isna(x) else str(x) for x in ot[t_name]]
        header = list(table)
        rows = [[table[h][i] for h in header] for i in range(len(releases))]
        return _count_from_rows(header, rows, name=name, line_numbers=None)


# ---------------------------------------------------------------------------
# Parsing and validation of a raw table of strings (shared by every reader).
# ---------------------------------------------------------------------------
def _parse_int(raw: str, *, source: str, row: int, column: str, what: str) -> int:
    s = raw.strip()
    if s == "":
        raise CountFormatError(f"{what} is blank; every release needs a value here", source=source, row=row, column=column)
    try:
        val = int(s)
    except ValueError:
        try:
            f = float(s)
        except ValueError:
            hint = " (remove thousands separators)" if re.fullmatch(r"-?\d{1,3}([,.' ]\d{3})+", s) else ""
            raise CountFormatError(
                f"{what} must be a whole number, got {raw!r}{hint}", source=source, row=row, column=column
            ) from None
        if not np.isfinite(f) or f != int(f):
            raise CountFormatError(
                f"{what} must be a whole number, got {raw!r}", source=source, row=row, column=column
            ) from None
        val = int(f)
    if val < 0:
        raise CountFormatError(f"{what} cannot be negative, got {raw!r}", source=source, row=row, column=column)
    return val


def _parse_optional_number(raw: str, *, source: str, row: int, column: str, what: str) -> float:
    s = raw.strip()
    if s == "":
        return float("nan")
    try:
        f = float(s)
    except ValueError:
        hint = " (remove thousands separators)" if re.fullmatch(r"-?\d{1,3}(,\d{3})+", s) else ""
        raise CountFormatError(
            f"{what} must be a number or blank, got {raw!r}{hint}", source=source, row=row, column=column
        ) from None
    if not np.isfinite(f):
        raise CountFormatError(f"{what} must be finite, got {raw!r}", source=source, row=row, column=column)
    if f < 0:
        raise CountFormatError(f"{what} cannot be negative, got {raw!r}", source=source, row=row, column=column)
    return f


def _count_from_rows(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    name: str,
    line_numbers: Sequence[int] | None,
) -> Count:
    """Validate a table of strings (header + rows) and build a :class:`Count`."""
    header = [h.strip() for h in header]
    lines = list(line_numbers) if line_numbers is not None else [i + 2 for i in range(len(rows))]
    for j, h in enumerate(header):
        if h == "":
            raise CountFormatError(
                f"column {j + 1} has an empty name; every candidate column needs the candidate's name",
                source=name,
                row=1,
            )
    seen: dict[str, int] = {}
    for h in header:
        if h in seen:
            raise CountFormatError(
                "duplicate column name; candidate names must be unique", source=name, row=1, column=h
            )
        seen[h] = 1
    if "batch_type" not in header:
        raise CountFormatError(
            "missing required column; every release needs the type of ballots that made up most of it "
            "(early_mail, vote_center, election_day, late_mail, provisional, mixed, ...)",
            source=name,
            column="batch_type",
        )
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
                f"{OUTSTANDING_PREFIX + (_snake(t) or 'late_mail')!r}",
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
                f"has {len(row)} fields but the header has {len(header)}", source=name, row=line
            )
        cell = {h: row[j] for h, j in idx.items()}
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
                f"batch_type must be a snake_case label, got {bt!r}; did you mean {_snake(bt) or 'mixed'!r}?",
                source=name,
                row=line,
                column="batch_type",
            )
        types.append(bt)
        for j, c in enumerate(candidates):
            votes[i, j] = _parse_int(cell[c], source=name, row=line, column=c, what="votes")
        if "release" in idx:
            release_ids[i] = _parse_int(cell["release"], source=name, row=line, column="release", what="release")
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
                ts = pd.Timestamp(raw)
            except (ValueError, TypeError):
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
