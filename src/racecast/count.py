"""The validated vote count: releases x candidates, batch types and outstanding ballots.

A [`Count`][racecast.Count] is what every reader produces and what the model
consumes.  It holds the *cumulative* votes per candidate after each results
release, the batch type that made up most of each release, optionally the
ballots counted in the whole reporting jurisdiction, and the outstanding-ballot
estimates by type.

Nothing is dropped or "fixed" here: a release whose cumulative votes go down (a
registrar correction) is kept as published and announced with a
[`CorrectionWarning`][racecast.CorrectionWarning]; how the model uses it is
documented in [`Count.batches`][racecast.Count.batches].
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd

from ._batches import release_batches
from ._count_view import count_html
from ._format import (
    EXPECTED_TOTAL,
    MAX_NUMBER,
    OUTSTANDING_PREFIX,
    OUTSTANDING_TOTAL,
    RESERVED_COLUMNS,
    expected_at_last,
    last_reported,
)
from ._tidy import fields_from_frame

__all__ = ["MAX_NUMBER", "OUTSTANDING_PREFIX", "RESERVED_COLUMNS", "Count"]


@dataclass(frozen=True, eq=False)
class Count:
    """A vote count as it stood after each of its releases.

    Build one with [`read_count`][racecast.read_count] (CSV) or
    [`Count.from_frame`][racecast.Count.from_frame]
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
        Outstanding ballots (or votes, see [`outstanding_unit`][racecast.Count.outstanding_unit]) by type, one
        row per release, ``nan`` where not reported.
    text : pandas.DataFrame
        The optional ``source``, ``note`` and ``place`` (see the data-format page) columns, as published.
    outstanding_total : numpy.ndarray
        An outstanding total published without a split by type, one per release
        (``nan`` where not reported; the ``outstanding_total`` column).  Used when it is
        fresher than every split ([`resolve_outstanding`][racecast.outstanding.resolve_outstanding]).
    expected_total : numpy.ndarray
        A projected final total (in [`outstanding_unit`][racecast.Count.outstanding_unit]), one
        per release (``nan`` where not given): what is left when nothing is published
        ([`resolve_outstanding`][racecast.outstanding.resolve_outstanding]).
    name : str
        Where the count came from (a file name), used in messages.

    Examples
    --------
    >>> import racecast
    >>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    >>> len(count), count.candidates
    (16, ('Karen Bass', 'Rick Caruso'))
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
    outstanding_total: np.ndarray = field(default_factory=lambda: np.array([], dtype=float))
    expected_total: np.ndarray = field(default_factory=lambda: np.array([], dtype=float))

    def __post_init__(self) -> None:
        for name in (OUTSTANDING_TOTAL, EXPECTED_TOTAL):
            values = np.asarray(getattr(self, name), dtype=float)
            if values.size == 0:
                values = np.full(len(self), np.nan)
            if values.shape != (len(self),):
                raise ValueError(f"{name} needs one value per release ({len(self)}), got {values.shape}")
            object.__setattr__(self, name, values)

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
            outstanding_total=self.outstanding_total[:n].copy(),
            expected_total=self.expected_total[:n].copy(),
        )

    def __repr__(self) -> str:
        lead = self.totals.sort_values(ascending=False)
        top = ", ".join(f"{c} {v:,}" for c, v in lead.head(3).items())
        return (
            f"<Count {self.name!r}: {len(self)} releases, {len(self.candidates)} candidates, "
            f"types {list(self.batch_types)}; totals {top}>"
        )

    def _repr_html_(self) -> str:
        return count_html(self)

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
        for col in (OUTSTANDING_TOTAL, EXPECTED_TOTAL):
            if np.isfinite(getattr(self, col)).any():
                df[col] = getattr(self, col)
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
        return [int(r) for r, bad in zip(self.release_ids, (inc < 0).any(axis=1), strict=True) if bad]

    # ------------------------------------------------------------ model views
    def latest_outstanding(self) -> dict[str, tuple[float, int]]:
        """Latest reported outstanding estimate per type, at or before the last release.

        Returns
        -------
        dict
            ``{batch_type: (outstanding, release_number)}`` for every type with a
            reported (non-blank) value.
        """
        return dict(self._latest_outstanding)

    def with_expected_total(self, total: float) -> Count:
        """The count with a projected final total at its last release (the ``expected_total`` column).

        For counts whose publisher says nothing of what is outstanding (a Clarity
        feed, say): the projection (registration times expected turnout, or a past
        comparable election's total) less what has been counted is what is left, with
        the uncertainty of a total, relative sd ``outstanding_sd`` (see ``docs/model.md``).

        Parameters
        ----------
        total
            Expected final total, in [`outstanding_unit`][racecast.Count.outstanding_unit]:
            jurisdiction ballots when ``ballots_counted`` is reported, else contest votes.

        Returns
        -------
        Count
            A copy with ``expected_total`` set at the last release (the count itself is unchanged).

        Raises
        ------
        ValueError
            When ``total`` is not a finite non-negative number.

        Examples
        --------
        >>> import pandas as pd, racecast
        >>> df = pd.DataFrame({"release": 1, "batch_type": "mail", "candidate": ["A", "B"], "votes": [6, 4]})
        >>> fc = racecast.forecast(racecast.Count.from_frame(df).with_expected_total(25), seed=1)
        >>> fc.remaining["amount"].round().tolist()  # 25 projected less 10 counted
        [15.0]
        """
        return replace(self, expected_total=expected_at_last(self.expected_total, total))

    @cached_property
    def _latest_outstanding(self) -> dict[str, tuple[float, int]]:
        out: dict[str, tuple[float, int]] = {}
        for t in self.outstanding.columns:
            col = self.outstanding[t].to_numpy(dtype=float)
            i = last_reported(col)
            if i is not None:
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
        return self._batches.copy()

    @cached_property
    def _batches(self) -> pd.DataFrame:
        return release_batches(self.votes, self.release_batch_types, self.ballots_counted, self.candidates)

    def turnout_spans(self) -> pd.DataFrame:
        """Spans between releases with a reported ``ballots_counted``.

        Each span runs from one release with ``ballots_counted`` (or the start of
        the count, when no ballots were counted) to the next, and records the
        jurisdiction ballots and the contest votes added in it, and its batch type
        when every release in it has the same type (else ``None``).
        """
        return self._turnout_spans.copy()

    @cached_property
    def _turnout_spans(self) -> pd.DataFrame:
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
            ``votes`` (cumulative votes after the release); the optional
            ``released_at``, ``source``, ``note`` and ``place`` are one value per release.
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
            The validated count, one release per row of ``df`` (or per release
            when ``df`` is long).

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
        >>> tidy = pd.DataFrame({"release": [1, 1, 2, 2],
        ...                      "batch_type": ["early_mail"] * 2 + ["late_mail"] * 2,
        ...                      "candidate": ["A", "B"] * 2, "votes": [60, 40, 110, 90]})
        >>> racecast.Count.from_frame(tidy, outstanding={"late_mail": 100}).totals.to_dict()
        {'A': 110, 'B': 90}
        """
        return cls(
            **fields_from_frame(
                df,
                release=release,
                batch_type=batch_type,
                candidate=candidate,
                votes=votes,
                outstanding=outstanding,
                name=str(name),
            )
        )
