"""The 2020 New York Times results feed (``battleground-state-changes.csv``).

[`read_nyt2020`][racecast.read_nyt2020] reads one state's updates into a count.
"""

from __future__ import annotations

import ast
import difflib
import itertools
import os
import re
import warnings
from pathlib import Path

import pandas as pd

from .._format import parse_int
from .._table import fields_from_rows
from ..count import Count
from ..errors import CountFormatError, FeedWarning
from ._text import csv_records, decode, read_bytes

__all__ = ["read_nyt2020"]

_COLUMNS = (
    "state",
    "timestamp",
    "leading_candidate_name",
    "trailing_candidate_name",
    "leading_candidate_votes",
    "trailing_candidate_votes",
    "votes_remaining",
)
_NAME_COLUMNS = ("leading_candidate_name", "trailing_candidate_name")
#: Optional column: the votes of an update by county, a Python dict literal.
_PARTITION = "counties_partition"
#: Share of an update's votes one county must give for the update to have that place.
PLACE_SHARE = 0.8
_VOTE_COLUMNS = ("leading_candidate_votes", "trailing_candidate_votes")


def read_nyt2020(path: str | os.PathLike[str], *, state: str) -> Count:
    """Read one state's updates from the 2020 NYT results-feed scrape.

    The file is ``battleground-state-changes.csv`` as published by the
    community scraper of the New York Times' 2020 presidential results feed:
    one row per feed update, newest first within each state, with the leading
    and trailing candidates' cumulative votes and the Times' estimate of the
    votes still to be counted.  racecast's copy of it lives outside the
    repository (``../shared/data/nyt2020`` next to the checkout) and is never
    bundled.

    How the feed becomes a [`Count`][racecast.Count]:

    * **Releases** are the state's rows in *release order* (the file's order
      reversed); release numbers run 1..n.  Updates that add no votes are kept
      as releases (they yield no batch for the model, see
      [`Count.batches`][racecast.Count.batches]).  Rows must be
      newest first: an out-of-order file is an error, not re-sorted.
    * **Candidates** are the names in ``leading_candidate_name`` and
      ``trailing_candidate_name`` (leader of the first release first).  Their
      votes are read from ``leading_candidate_votes``/``trailing_candidate_votes``
      whichever position they hold in each row, so a change of leader is
      handled.  Third-party votes are not in the feed's candidate columns.
    * **Batch type** is ``mixed`` for every release: the feed does not say
      which kind of ballots an update held.
    * **Outstanding** is the Times' ``votes_remaining`` as
      ``outstanding_mixed``, in *votes* (the count has no ``ballots_counted``,
      so [`Count.outstanding_unit`][racecast.Count.outstanding_unit]
      is ``"votes"``).  It is an estimate of *all* presidential votes left,
      third-party votes included (1-4% of the total in these states), so it
      slightly overstates the two candidates' remaining votes.  When the
      count overtook the Times' turnout estimate the feed reports a negative
      number; racecast reads it as 0 (nothing left by the Times' estimate),
      keeps the published value in the ``note`` column and issues a
      [`FeedWarning`][racecast.FeedWarning].
    * **Place** is the county (Alaska: the state house district) that gave at least
      80% of an update's votes by the feed's ``counties_partition`` column (a dict of
      county to votes), blank when no county did, the partition is empty (the first
      updates) or the column is absent.  It gives each county a lean of its own
      (``Priors.place_sd``) and lets the model scale a batch's variance by its size
      within its county (``Priors.batch_size_floor``).
    * **released_at** is the feed's ``timestamp``, which is UTC.
    * ``source`` holds ``<file name>:<line>`` of each release's row.

    Parameters
    ----------
    path
        Path of ``battleground-state-changes.csv``.
    state
        The state, either as in the file (``"Georgia (EV: 16)"``) or by name
        (``"Georgia"``, case-insensitive).

    Returns
    -------
    Count
        The state's count, one release per feed update.

    Raises
    ------
    CountFormatError
        Naming the file, line and column of the first problem (a missing
        column, a bad number, an unknown state, rows out of order, ...).

    Warns
    -----
    FeedWarning
        For each update whose ``votes_remaining`` is negative.
    CorrectionWarning
        For each update that lowered a candidate's cumulative votes (the feed
        has several; they are kept as published).

    Examples
    --------
    >>> import racecast, warnings
    >>> path = "../shared/data/nyt2020/battleground-state-changes.csv"
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", racecast.RacecastWarning)
    ...     ga = racecast.read_nyt2020(path, state="Georgia")  # doctest: +SKIP
    >>> ga.candidates, ga.batch_types  # doctest: +SKIP
    (('Trump', 'Biden'), ('mixed',))
    """
    p = Path(path)
    label = str(p)
    records = _feed_records(p, label)
    state_label = _match_state(state, [r["state"] for _, r in records], label)
    mine = [(line, r) for line, r in records if r["state"] == state_label]
    stamps = [(line, _timestamp(r["timestamp"], label, line)) for line, r in mine]
    for (_, newer), (line, older) in itertools.pairwise(stamps):
        if pd.Timestamp(older) > pd.Timestamp(newer):
            raise CountFormatError(
                f"timestamp {older} is later than the row above it ({newer}); the feed lists a state's "
                "updates newest first",
                source=label,
                row=line,
                column="timestamp",
            )
    candidates: list[str] = []
    parsed = []
    for (line, r), (_, at) in zip(reversed(mine), reversed(stamps), strict=True):  # the feed is newest first
        votes = _votes(r, candidates, label, line)
        remaining, note = _remaining(r["votes_remaining"], label, line)
        place = _place(r.get(_PARTITION, ""), label, line)
        parsed.append((line, at, votes, remaining, note, place))
    header = ["released_at", "batch_type", *candidates, "outstanding_mixed", "source", "note", "place"]
    rows = [
        [at, "mixed", *(str(votes[c]) for c in candidates), str(remaining), f"{p.name}:{line}", note, place]
        for line, at, votes, remaining, note, place in parsed
    ]
    lines = [line for line, *_ in parsed]
    return Count(**fields_from_rows(header, rows, name=f"{p.name} [{state_label}]", lines=lines))


def _feed_records(path: Path, label: str) -> list[tuple[int, dict[str, str]]]:
    """The feed's rows as ``{column: cell}`` with their lines; the header must have the feed's columns."""
    header: list[str] | None = None
    records: list[tuple[int, dict[str, str]]] = []
    for line, record in csv_records(decode(read_bytes(path, label), label), label):
        if header is None:
            header = [h.strip() for h in record]
            missing = [c for c in _COLUMNS if c not in header]
            if missing:
                raise CountFormatError(
                    f"missing column; an NYT 2020 results feed has the columns {list(_COLUMNS)} "
                    "(is this battleground-state-changes.csv?)",
                    source=label,
                    row=line,
                    column=missing[0],
                )
            continue
        if len(record) != len(header):
            raise CountFormatError(
                f"has {len(record)} fields but the header has {len(header)}", source=label, row=line
            )
        records.append((line, dict(zip(header, record, strict=True))))
    if header is None:
        raise CountFormatError("the file is empty (no header row)", source=label)
    return records


def _votes(r: dict[str, str], candidates: list[str], label: str, line: int) -> dict[str, int]:
    """Each named candidate's votes in one row; ``candidates`` gains names not seen before (at most two)."""
    names = (r["leading_candidate_name"].strip(), r["trailing_candidate_name"].strip())
    for col, nm in zip(_NAME_COLUMNS, names, strict=True):
        if not nm:
            raise CountFormatError("candidate name is blank", source=label, row=line, column=col)
    if names[0] == names[1]:
        raise CountFormatError(
            f"leading and trailing candidate are both {names[0]!r}",
            source=label,
            row=line,
            column="trailing_candidate_name",
        )
    for nm in names:
        if nm not in candidates:
            candidates.append(nm)
    if len(candidates) > 2:
        raise CountFormatError(
            f"a third candidate name appears ({candidates}); the NYT 2020 feed holds the two leading "
            "candidates of a state, and each must be named in every row",
            source=label,
            row=line,
            column="trailing_candidate_name" if names[1] == candidates[-1] else "leading_candidate_name",
        )
    return {
        nm: parse_int(r[col], source=label, row=line, column=col, what="votes")
        for nm, col in zip(names, _VOTE_COLUMNS, strict=True)
    }


def _place(raw: str, label: str, line: int) -> str:
    """The county that gave at least ``PLACE_SHARE`` of an update's votes, else ``""``."""
    text = raw.strip()
    if not text:
        return ""
    try:
        part = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        part = None
    numbers = isinstance(part, dict) and all(
        isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool)
        for k, v in part.items()
    )
    if not numbers:
        raise CountFormatError(
            f"{_PARTITION} must be a dict of county name to votes, e.g. {{'Maricopa': 75537}}, got {raw!r}",
            source=label,
            row=line,
            column=_PARTITION,
        )
    total = sum(part.values())
    if not part or total <= 0:
        return ""
    county, votes = max(part.items(), key=lambda kv: kv[1])
    return county.strip() if votes >= PLACE_SHARE * total else ""


def _remaining(raw: str, label: str, line: int) -> tuple[int, str]:
    """The Times' votes remaining (a negative estimate read as 0, with a warning) and the row's note."""
    try:
        remaining = int(raw.strip())
    except ValueError:
        raise CountFormatError(
            f"votes_remaining must be a whole number, got {raw!r}",
            source=label,
            row=line,
            column="votes_remaining",
        ) from None
    if remaining >= 0:
        return remaining, ""
    warnings.warn(
        f"{label}, row {line}, column 'votes_remaining': {remaining:,} (the count passed the Times' "
        "turnout estimate); read as 0 outstanding, published value kept in the note column",
        FeedWarning,
        stacklevel=3,
    )
    note = (
        f"votes_remaining published as {remaining}: the count passed the Times' turnout estimate; read as 0"
    )
    return 0, note


def _match_state(state: str, labels: list[str], source: str) -> str:
    available = list(dict.fromkeys(labels))
    if not available:
        raise CountFormatError("the file has no data rows", source=source)
    want = state.strip().lower()
    for lab in available:
        if lab.lower() == want or re.sub(r"\s*\(.*\)\s*$", "", lab).strip().lower() == want:
            return lab
    names = [re.sub(r"\s*\(.*\)\s*$", "", lab).strip() for lab in available]
    close = difflib.get_close_matches(state.strip(), names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise CountFormatError(
        f"no rows for state {state!r}; the file has {names}{hint}", source=source, column="state"
    )


def _timestamp(raw: str, source: str, line: int) -> str:
    s = raw.strip()
    try:
        ts = pd.Timestamp(s)
    except (ValueError, TypeError):
        ts = pd.NaT
    if ts is pd.NaT:
        raise CountFormatError(
            f"timestamp must be a date and time (UTC), e.g. 2020-11-04 13:28:22.084000, got {raw!r}",
            source=source,
            row=line,
            column="timestamp",
        )
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.isoformat()
