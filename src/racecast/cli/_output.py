"""Where the command line writes: results to standard output, one line per warning or error to standard error.

[`reporting`][racecast.cli._output.reporting] maps what a command raises to an exit
code: an [`InputError`][racecast.InputError] is bad input (exit 2, its message on one
line); an [`InternalError`][racecast.InternalError] or any other unexpected exception is
a bug in racecast (exit 1, with the version and a request to report it); a missing
optional dependency exits 1 with its message. ``--debug`` re-raises instead.
"""

from __future__ import annotations

import contextlib
import json
import sys
import warnings
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from .._version import __version__
from ..errors import InputError, InternalError, RacecastWarning

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILURE",
    "EXIT_OK",
    "OutputFormat",
    "Report",
    "reporting",
    "say",
    "stderr_console",
    "write_output",
]

#: Exit code of a successful run.
EXIT_OK = 0
#: Exit code of an unexpected failure (a bug: please report it with ``--debug`` output).
EXIT_FAILURE = 1
#: Exit code of bad input: a malformed count file or an unusable option value.
EXIT_BAD_INPUT = 2

#: Heading, table and footer of a readable report.
Report = tuple[str, Table, str]


class OutputFormat(StrEnum):
    """Output format of a command."""

    table = "table"
    json = "json"
    csv = "csv"


def _stdout() -> Console:
    # a terminal gets its own width; a pipe or file gets lines long enough not to wrap tables
    console = Console(file=sys.stdout, highlight=False, soft_wrap=False)
    return console if console.is_terminal else Console(file=sys.stdout, highlight=False, width=160)


def stderr_console() -> Console:
    """A console on standard error (for spinners and progress bars when it is a terminal)."""
    return Console(file=sys.stderr, highlight=False, soft_wrap=True)


def say(kind: str, message: str) -> None:
    """One line on standard error: ``racecast: <kind>: <message>``."""
    flat = " ".join(str(message).split())
    print(f"racecast: {kind}: {flat}", file=sys.stderr)


def write_output(
    output: OutputFormat,
    *,
    as_json: Callable[[], Any],
    as_csv: Callable[[], str],
    as_report: Callable[[], Report],
) -> None:
    """Write a result to standard output in the chosen format (only the chosen one is built)."""
    if output is OutputFormat.json:
        sys.stdout.write(json.dumps(as_json(), indent=2) + "\n")
    elif output is OutputFormat.csv:
        sys.stdout.write(as_csv())
    else:
        heading, table, footer = as_report()
        out = _stdout()
        out.print(heading, soft_wrap=True)
        out.print(table)
        out.print(footer, soft_wrap=True)


def _error_line(exc: Exception) -> tuple[str, int]:
    """The one-line message and the exit code of an exception a command raised."""
    if isinstance(exc, InputError):
        return str(exc), EXIT_BAD_INPUT
    if isinstance(exc, ImportError):  # a missing optional dependency (matplotlib, pymc, ...)
        return str(exc), EXIT_FAILURE
    what = (
        f"internal error: {exc}"
        if isinstance(exc, InternalError)
        else f"unexpected {type(exc).__name__}: {exc}"
    )
    bug = f"this is a bug in racecast {__version__}, please report it (run with --debug for the traceback)"
    return f"{what}; {bug}", EXIT_FAILURE


def _flush(caught: list[warnings.WarningMessage]) -> None:
    seen: set[str] = set()
    for w in caught:
        msg = str(w.message)
        if issubclass(w.category, RacecastWarning) and msg not in seen:
            seen.add(msg)
            say("warning", msg)
    caught.clear()


@contextlib.contextmanager
def reporting(ctx: typer.Context) -> Iterator[None]:
    """Turn racecast warnings and errors into one line each on stderr, with exit codes."""
    debug = bool((ctx.obj or {}).get("debug"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RacecastWarning)
        if not debug:
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            warnings.filterwarnings("ignore", category=FutureWarning)
        try:
            yield
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            _flush(caught)
            if debug:
                raise
            message, code = _error_line(exc)
            say("error", message)
            raise typer.Exit(code) from None
        _flush(caught)
