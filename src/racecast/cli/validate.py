"""``racecast validate FILE``: every problem of a count file, each with its file, row and column."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer

from ..count import Count
from ..errors import RacecastWarning
from ..io import count_problems, read_count
from ._options import ExampleOption, source_path
from ._output import EXIT_BAD_INPUT, reporting, say

__all__ = ["validate_command"]


def validate_command(
    ctx: typer.Context,
    file: Annotated[
        Path | None, typer.Argument(help="Count file (CSV) to check.", show_default=False)
    ] = None,
    limit: Annotated[int, typer.Option(help="Stop after this many problems.")] = 100,
    example: ExampleOption = None,
) -> None:
    """Check a count file and report every problem found, with file, row and column.

    Exit code 0 when the file is a valid count (warnings such as corrections are
    printed but do not fail it), 2 when it has problems.
    """
    file = source_path(file, example, "file")
    with reporting(ctx):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RacecastWarning)
            _, problems = count_problems(file, limit=limit)
        if problems:
            for p in problems:
                say("error", str(p))
            more = " (stopped at --limit)" if len(problems) >= limit else ""
            say("error", f"{file}: {len(problems)} problem(s) found{more}")
            raise typer.Exit(EXIT_BAD_INPUT)
        count = read_count(file)  # again, to report its warnings
        print(_describe(count))


def _describe(count: Count) -> str:
    out = count.latest_outstanding()
    rem = ", ".join(f"{t} {n:,.0f} (release {r})" for t, (n, r) in out.items()) or "none reported"
    return (
        f"{count.name}: ok, {len(count)} releases, {count.n_candidates} candidates "
        f"({', '.join(count.candidates)}), batch types {', '.join(count.batch_types)}; "
        f"outstanding {count.outstanding_unit}: {rem}"
    )
