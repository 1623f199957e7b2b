"""Ballot files: [`read_ballot`][racecast.read_ballot] and the problem listing of a ballot.

A ballot is three CSV files side by side (``docs/ballot-format.md``):
``results.csv`` (release × contest × candidate cumulative votes),
``releases.csv`` (the jurisdiction's releases) and ``contests.csv`` (each
contest's metadata).  Each file is checked in one pass, every problem found is
reported, and nothing is dropped: a contest must have every candidate at every
release, every contest of one file must be in the other, and repeated columns
(``released_at``, ``contest_group``, ``vote_for`` in ``results.csv``) must agree
with the file that owns them.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._format import MAX_NUMBER, OUTSTANDING_PREFIX, RESERVED_COLUMNS, parse_int, parse_released_at
from ..ballot import Ballot
from ..errors import CorrectionWarning, CountFormatError
from ._ballot_files import (
    CONTEST_COLUMNS,
    RELEASE_COLUMNS,
    Contests,
    Problems,
    Releases,
    Table,
    parse_contests,
    parse_releases,
    read_table,
    release_arrays,
)

__all__ = ["ballot_problems", "read_ballot"]

#: Columns of ``results.csv``: required, then optional (repeating what the other files hold).
RESULT_COLUMNS = (
    ("release", "contest", "candidate", "votes"),
    ("released_at", "contest_group", "vote_for", "party"),
)


def _paths(path: str | os.PathLike[str]) -> tuple[Path, Path, Path]:
    """``results.csv``, ``releases.csv`` and ``contests.csv`` of a ballot folder or of its results file."""
    p = Path(path)
    if p.is_dir():
        return p / "results.csv", p / "releases.csv", p / "contests.csv"
    stem = p.name
    if "results" not in stem:
        raise CountFormatError(
            "a ballot is a folder holding results.csv, releases.csv and contests.csv, or its results file "
            "(named ...results.csv, next to ...releases.csv and ...contests.csv)",
            source=str(p),
        )
    return (
        p,
        p.with_name(stem.replace("results", "releases")),
        p.with_name(stem.replace("results", "contests")),
    )


@dataclass
class _Results:
    """Votes by contest, candidate and release, and where each contest starts in ``results.csv``."""

    votes: dict[str, dict[str, dict[int, int]]] = field(default_factory=dict)
    party: dict[str, dict[str, str]] = field(default_factory=dict)
    first_line: dict[str, int] = field(default_factory=dict)
    seen: dict[tuple[str, str], str] = field(default_factory=dict)


def _votes(raw: str, problems: Problems, **kw: object) -> int:
    if raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_NUMBER)) and int(raw) <= MAX_NUMBER:
        return int(raw)
    return problems.attempt(parse_int, raw, 0, what="votes", column="votes", **kw)


def _agrees(
    res: _Results, problems: Problems, key: tuple[str, str], raw: str, owner: str, *, source: str, row: int
) -> None:
    """A repeated cell (``released_at``, ``contest_group``, ...) must equal what its own file says."""
    if raw == "" or res.seen.get(key) == raw:
        return
    column, what = key
    if owner != raw:
        problems.add(
            f"{column} {raw!r} disagrees with {owner!r} for {what}; results.csv repeats it only for "
            "reference, so make the two files agree (or drop the column here)",
            source=source,
            row=row,
            column=column,
        )
    res.seen[key] = raw


def _parse_results(table: Table, rel: Releases, con: Contests, problems: Problems) -> _Results:
    src = table.label
    res = _Results()
    ids = set(rel.ids)
    times = {rid: ("" if t is None else t) for rid, t in zip(rel.ids, rel.times, strict=True)}
    info = {r["contest"]: r for r in con.rows}
    for line, cell in table.cells(problems):
        if problems.full:
            break
        kw: dict[str, Any] = {"source": src, "row": line}
        rid = problems.attempt(parse_int, cell["release"], None, column="release", what="release", **kw)
        contest, cand = cell["contest"], cell["candidate"]
        votes = _votes(cell["votes"], problems, **kw)
        if rid is not None and rid not in ids:
            problems.add(f"release {rid} is not in releases.csv; add it there", column="release", **kw)
            continue
        if contest not in info:
            near = f"; is it {contest.strip()!r}?" if contest.strip() in info else ""
            problems.add(
                f"contest {contest!r} is not in contests.csv; add a row for it there{near}",
                column="contest",
                **kw,
            )
            continue
        if cand == "" or cand in RESERVED_COLUMNS or cand.startswith(OUTSTANDING_PREFIX):
            problems.add(
                f"candidate {cand!r} is blank or a reserved column name of a count", column="candidate", **kw
            )
            continue
        if rid is None:
            continue
        _check_repeats(res, problems, cell, info[contest], times[rid], rid, src, line)
        res.first_line.setdefault(contest, line)
        by_cand = res.votes.setdefault(contest, {}).setdefault(cand, {})
        if rid in by_cand:
            problems.add(
                f"release {rid}, contest {contest!r}, candidate {cand!r} appears twice",
                column="candidate",
                **kw,
            )
        by_cand[rid] = votes
        party = res.party.setdefault(contest, {}).setdefault(cand, cell.get("party", ""))
        if party != cell.get("party", ""):
            problems.add(
                f"party {cell['party']!r} differs from {party!r} on an earlier row", column="party", **kw
            )
    return res


def _check_repeats(
    res: _Results,
    problems: Problems,
    cell: dict[str, str],
    info: dict,
    at: object,
    rid: int,
    src: str,
    line: int,
) -> None:
    """``released_at``, ``contest_group`` and ``vote_for`` in ``results.csv`` agree with their own files."""
    kw: dict[str, Any] = {"source": src, "row": line}
    raw_at = cell.get("released_at", "")
    if raw_at and res.seen.get(("released_at", str(rid))) != raw_at:
        got = problems.attempt(parse_released_at, raw_at, None, **kw)
        if got is not None and got != at:
            shown = "blank" if at == "" else f"{at}"
            problems.add(
                f"released_at {raw_at!r} differs from releases.csv ({shown}) for release {rid}",
                column="released_at",
                **kw,
            )
        res.seen[("released_at", str(rid))] = raw_at
    contest = info["contest"]
    _agrees(
        res, problems, ("contest_group", contest), cell.get("contest_group", ""), info["contest_group"], **kw
    )
    vote_for = "" if info["vote_for"] is None else str(info["vote_for"])
    _agrees(res, problems, ("vote_for", contest), cell.get("vote_for", ""), vote_for, **kw)


def _complete(
    res: _Results, rel: Releases, con: Contests, problems: Problems, src: str
) -> dict[str, np.ndarray]:
    """Each contest's ``(release, candidate)`` votes, every candidate at every release."""
    out: dict[str, np.ndarray] = {}
    for row in con.rows:
        contest = row["contest"]
        if contest not in res.votes:
            problems.add(
                "no results for this contest in results.csv",
                source=con.label,
                row=con.line[contest],
                column="contest",
            )
            continue
        cands = res.votes[contest]
        for cand, by_rel in cands.items():
            missing = [r for r in rel.ids if r not in by_rel]
            if missing:
                problems.add(
                    f"contest {contest!r} has no row for candidate {cand!r} at release {missing[0]}"
                    f"{f' (and {len(missing) - 1} more)' if len(missing) > 1 else ''}; every release needs "
                    "every candidate's cumulative votes (0 if none)",
                    source=src,
                    row=res.first_line[contest],
                    column="candidate",
                )
        n = row["n_candidates"]
        if n is not None and n != len(cands):
            problems.add(
                f"n_candidates is {n} but results.csv has {len(cands)} candidates for this contest",
                source=con.label,
                row=con.line[contest],
                column="n_candidates",
            )
        if row["pass_share"] is not None and sorted(c.strip().lower() for c in cands) != ["no", "yes"]:
            problems.add(
                f"a measure with a pass rate needs exactly the candidates YES and NO, got {list(cands)}",
                source=con.label,
                row=con.line[contest],
                column="measure_pass_rate",
            )
        out[contest] = np.array(
            [[by_rel.get(r, 0) for by_rel in cands.values()] for r in rel.ids], dtype=np.int64
        )
    return out


def _warn_corrections(
    name: str, votes: dict[str, np.ndarray], cands: dict[str, tuple[str, ...]], ids: np.ndarray
) -> None:
    for contest, v in votes.items():
        down = np.argwhere(v[1:] < v[:-1])
        if down.size:
            i, j = down[0]
            warnings.warn(
                f"{name}, contest {contest!r}: cumulative votes of {cands[contest][j]!r} went down from "
                f"{v[i, j]:,} to {v[i + 1, j]:,} at release {ids[i + 1]} ({len(down)} such drop(s) in the "
                "contest); kept as published, and the model merges such a release into the batch before it",
                CorrectionWarning,
                stacklevel=4,
            )


def ballot_problems(
    path: str | os.PathLike[str], *, name: str | None = None, limit: int = 100
) -> tuple[Ballot | None, list[CountFormatError]]:
    """Every problem of a ballot's files that can be found in one pass.

    Parameters
    ----------
    path
        A folder holding ``results.csv``, ``releases.csv`` and ``contests.csv``,
        or the results file (its siblings are found by replacing ``results`` in
        its name with ``releases`` and ``contests``).
    name
        The ballot's name (default: the folder's name).
    limit
        Stop after this many problems.

    Returns
    -------
    tuple
        The [`Ballot`][racecast.Ballot] and ``[]`` when the files are valid,
        else ``None`` and the problems, each a
        [`CountFormatError`][racecast.CountFormatError] naming the file, row and
        column.  ``results.csv`` is checked only once the other two are valid.
    """
    problems = Problems(limit)
    try:
        results_path, releases_path, contests_path = _paths(path)
        releases = read_table(releases_path, RELEASE_COLUMNS, outstanding=True)
        contests = read_table(contests_path, CONTEST_COLUMNS)
        results = read_table(results_path, RESULT_COLUMNS)
    except CountFormatError as exc:
        return None, [exc]
    rel = parse_releases(releases, problems)
    con = parse_contests(contests, problems)
    if problems.found:
        return None, problems.found
    res = _parse_results(results, rel, con, problems)
    votes = _complete(res, rel, con, problems, results.label)
    if problems.found:
        return None, problems.found
    arrays = release_arrays(rel)
    cands = {c: tuple(res.votes[c]) for c in votes}
    label = name or (Path(path) if Path(path).is_dir() else results_path.parent).name
    _warn_corrections(label, votes, cands, arrays["release_ids"])
    info = con.frame()
    parties = {c: tuple(res.party[c][k] for k in cands[c]) for c in votes}
    return Ballot(name=label, info=info, candidates=cands, votes=votes, parties=parties, **arrays), []


def read_ballot(path: str | os.PathLike[str], *, name: str | None = None) -> Ballot:
    """Read a ballot: every contest of a jurisdiction at every release.

    The format (three CSV files) is described in ``docs/ballot-format.md``.

    Parameters
    ----------
    path
        A folder holding ``results.csv``, ``releases.csv`` and ``contests.csv``,
        or the results file (``...results.csv``, next to ``...releases.csv`` and
        ``...contests.csv``).
    name
        The ballot's name in messages (default: the folder's name).

    Returns
    -------
    Ballot

    Raises
    ------
    CountFormatError
        The first problem found, naming the file, row and column and what to do;
        its notes list every other problem found in the same pass.

    Warns
    -----
    CorrectionWarning
        Once per contest whose cumulative votes went down (kept as published).

    Examples
    --------
    >>> import racecast
    >>> ballot = racecast.read_ballot(racecast.example_path("la_county_2022"))
    >>> len(ballot), ballot.contests[0]
    (14, 'SUPERVISOR 3RD DISTRICT')
    """
    ballot, problems = ballot_problems(path, name=name)
    if ballot is None:
        first, rest = problems[0], problems[1:]
        if rest:
            first.add_note(f"{len(rest)} more problem(s) found in the same pass:")
            for p in rest:
                first.add_note(f"  {p}")
        raise first
    return ballot
