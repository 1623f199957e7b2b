"""Exceptions and warnings raised by racecast.

Two families of errors, so that a caller (and the command line) can tell them apart:

* [`InputError`][racecast.InputError] (also a `ValueError`): the input cannot be used.
  Readers raise [`CountFormatError`][racecast.CountFormatError], naming the file, row
  and column at fault and what to do; [`forecast`][racecast.forecast] and friends raise
  [`ForecastInputError`][racecast.ForecastInputError] for arguments they cannot use.
  The command line exits with status 2.
* [`InternalError`][racecast.InternalError] (also a `RuntimeError`): a check racecast
  makes on its own results failed. That is a bug in racecast, never the user's fault;
  the command line exits with status 1 and asks for a report.

Modelling assumptions that kick in silently elsewhere (an outstanding batch type that
has not been counted yet, a correction in the count, poor sampler diagnostics) are
announced with a subclass of [`RacecastWarning`][racecast.RacecastWarning] so users can
filter or escalate them.
"""

from __future__ import annotations

__all__ = [
    "RacecastError",
    "InputError",
    "CountFormatError",
    "ForecastInputError",
    "InternalError",
    "RacecastWarning",
    "CorrectionWarning",
    "UnseenBatchTypeWarning",
    "StaleOutstandingWarning",
    "SamplerWarning",
    "HistoryWarning",
    "FeedWarning",
    "CalledRaceWarning",
]


class RacecastError(Exception):
    """Base class of every error racecast raises on purpose."""


class InputError(RacecastError, ValueError):
    """The input cannot be used as it stands; the message says what to do about it."""


class CountFormatError(InputError):
    """A count file or table is malformed.

    Parameters
    ----------
    message
        What is wrong and what to do about it.
    source
        The file (or ``"<table>"``) being read.
    row
        1-based line number in the file (the header is line 1), if the problem
        is on one row.
    column
        Column name, if the problem is in one column.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.source = source
        self.row = row
        self.column = column
        self.reason = message
        where = []
        if source is not None:
            where.append(str(source))
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class ForecastInputError(InputError):
    """The arguments of a forecast cannot be used (e.g. nothing says what is outstanding)."""


class InternalError(RacecastError, RuntimeError):
    """A check racecast makes on its own results failed: a bug in racecast, please report it."""


class RacecastWarning(UserWarning):
    """Base class of racecast's warnings."""


class CorrectionWarning(RacecastWarning):
    """Cumulative votes went down between two releases (a registrar correction)."""


class UnseenBatchTypeWarning(RacecastWarning):
    """A batch type is outstanding but none of its ballots has been counted yet."""


class StaleOutstandingWarning(RacecastWarning):
    """The outstanding estimate for a type predates releases of that type."""


class SamplerWarning(RacecastWarning):
    """The sampler's diagnostics (R-hat, ESS, divergences) indicate trouble."""


class HistoryWarning(RacecastWarning):
    """A count used to learn a prior from history may not be complete."""


class FeedWarning(RacecastWarning):
    """A results feed published a value racecast cannot use as it stands.

    The message names the file, row and column, the published value and what
    racecast did with it (e.g. a negative "votes remaining" estimate read as 0);
    the published value is also kept in the count's ``note`` column.
    """


class CalledRaceWarning(RacecastWarning):
    """A called outcome happens in none of the simulated draws, so it had to be imposed."""
