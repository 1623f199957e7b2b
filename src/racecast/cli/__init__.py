"""The ``racecast`` command line.

``racecast forecast FILE`` prints who is going to win a count file, ``racecast
replay FILE`` forecasts a finished count after each of its releases and scores
it, ``racecast validate FILE`` lists every problem of a count file, ``racecast
--version`` prints the version.  The commands and the JSON/CSV outputs are documented in
``docs/cli.md``.

Conventions: results go to standard output, warnings and errors to standard
error, one line each (no traceback unless ``--debug``).  Exit codes: 0 success,
1 a bug in racecast (or a missing optional dependency), 2 bad input (a malformed
count, a bad option value).

Examples
--------
>>> from typer.testing import CliRunner
>>> from racecast.cli import app
>>> result = CliRunner().invoke(app, ["--version"])
>>> result.stdout.startswith("racecast ")
True
"""

from ..report import CSV_COLUMNS
from ._app import app, main
from ._output import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK
from .replay import REPLAY_CSV_COLUMNS

__all__ = ["CSV_COLUMNS", "EXIT_BAD_INPUT", "EXIT_FAILURE", "EXIT_OK", "REPLAY_CSV_COLUMNS", "app", "main"]
