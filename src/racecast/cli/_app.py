"""The ``racecast`` typer application: global options and the commands it runs."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .._version import __version__
from ._output import EXIT_OK
from .ballot import ballot_command
from .forecast import forecast_command
from .replay import replay_command
from .validate import validate_command
from .watch import watch_command

__all__ = ["app", "main"]

app = typer.Typer(
    name="racecast",
    help="Who is going to win while the ballots are still being counted.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version_callback(value: bool) -> None:
    if value:
        print(f"racecast {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _main(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_version_callback, is_eager=True
        ),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show full tracebacks instead of one-line errors.")
    ] = False,
) -> None:
    """Who is going to win while the ballots are still being counted."""
    ctx.obj = {"debug": debug}


app.command("forecast")(forecast_command)
app.command("replay")(replay_command)
app.command("validate")(validate_command)
app.command("ballot")(ballot_command)
app.command("watch")(watch_command)


def main(argv: list[str] | None = None) -> Any:
    """Run the ``racecast`` command line (the console-script entry point)."""
    return app(args=argv, prog_name="racecast")
