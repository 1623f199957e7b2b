"""The options the commands share, each written once, with its default from [`racecast.settings`][].

Each option is an ``Annotated`` type a command uses as a parameter's annotation,
its default taken from the one defaults table, so ``racecast forecast`` and
``racecast replay`` cannot disagree with each other or with the library.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from .._format import TYPE_RE, snake
from ..count import Count
from ..errors import ForecastInputError
from ..io import example_path
from ..priors_file import read_priors
from ..settings import DEFAULT_ENGINE
from ._output import OutputFormat

__all__ = [
    "DEFAULT_ENGINE_CHOICE",
    "AsOfOption",
    "CountFile",
    "DrawsOption",
    "Engine",
    "ExampleOption",
    "EngineOption",
    "FormatOption",
    "IntervalOption",
    "PriorsOption",
    "ExpectedTotalOption",
    "RemainingOption",
    "SeedOption",
    "as_of",
    "parse_remaining",
    "priors_kwargs",
    "source_path",
]


class Engine(StrEnum):
    """Inference engine (see [`racecast.settings`][] for why ``fast`` is the default)."""

    nuts = "nuts"
    fast = "fast"


#: The default engine as a command-line choice.
DEFAULT_ENGINE_CHOICE = Engine(DEFAULT_ENGINE)

CountFile = Annotated[
    Path | None,
    typer.Argument(help="Count file (CSV, see docs/data-format.md); or use --example.", show_default=False),
]
ExampleOption = Annotated[
    str | None,
    typer.Option(
        "--example",
        metavar="NAME",
        help="Use data bundled with racecast instead of a path: la_mayor_2022_general, "
        "la_mayor_2022_primary (counts), la_county_2022 (a ballot).",
        show_default=False,
    ),
]


def source_path(path: Path | None, example: str | None, what: str) -> Path:
    """The path to read: ``path``, or the bundled ``--example``; exactly one must be given."""
    if path is not None and example is not None:
        raise typer.BadParameter(f"give a {what} or --example NAME, not both", param_hint="--example")
    if example is not None:
        try:
            return example_path(example)
        except FileNotFoundError as exc:
            raise typer.BadParameter(str(exc), param_hint="--example") from None
    if path is None:
        raise typer.BadParameter(
            f"give a {what} (or --example NAME for bundled data)", param_hint=what.upper()
        )
    return path


EngineOption = Annotated[
    Engine,
    typer.Option(help="fast: exact Gaussian grid engine; nuts: PyMC sampler (same model)."),
]
SeedOption = Annotated[int | None, typer.Option(help="Random seed; the same seed gives the same answer.")]
DrawsOption = Annotated[
    int, typer.Option(help="Posterior draws (per forecast), each simulated into one final count.")
]
IntervalOption = Annotated[float, typer.Option(help="Mass of the reported intervals.")]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
AsOfOption = Annotated[
    int | None,
    typer.Option(
        "--as-of",
        metavar="RELEASE",
        help="Forecast as of this release number (default: the last).",
        show_default=False,
    ),
]
RemainingOption = Annotated[
    list[str] | None,
    typer.Option(
        "--remaining",
        "-r",
        metavar="TYPE=N",
        help="Outstanding ballots of a batch type (repeat for several types); overrides the file's "
        "outstanding_<type> columns.",
        show_default=False,
    ),
]

ExpectedTotalOption = Annotated[
    float | None,
    typer.Option(
        "--expected-total",
        metavar="N",
        help="A projection of the final total (ballots when the file has ballots_counted, else votes), "
        "e.g. registration x expected turnout; used only when the file publishes no outstanding estimate.",
        show_default=False,
    ),
]

PriorsOption = Annotated[
    Path | None,
    typer.Option(
        "--priors",
        metavar="FILE",
        help="JSON file of racecast.Priors fields (and outstanding_sd), e.g. what learn_priors learned "
        "on your own past counts (racecast.write_priors); default: the shipped priors.",
        show_default=False,
    ),
]


def priors_kwargs(path: Path | None) -> dict[str, Any]:
    """``forecast`` keyword arguments from a ``--priors`` file.

    ``priors``, and ``outstanding_sd`` when the file has one.
    """
    if path is None:
        return {}
    priors, outstanding_sd = read_priors(path)
    return {"priors": priors} | ({} if outstanding_sd is None else {"outstanding_sd": outstanding_sd})


_REMAINING_RE = re.compile(r"^\s*([A-Za-z0-9_]+)\s*=\s*(.+?)\s*$")


def parse_remaining(values: list[str] | None) -> dict[str, float] | None:
    """``["late_mail=331_000", ...]`` as ``{"late_mail": 331000.0, ...}`` (``None`` when not given).

    A type the count does not have but nearly does (``late_mial``) is refused by
    the forecast, with the type it probably means.
    """
    if not values:
        return None
    out: dict[str, float] = {}
    for raw in values:
        m = _REMAINING_RE.match(raw)
        if not m:
            label, _, amount = raw.partition("=")
            guess = snake(label)
            hint = (
                f" (did you mean {guess}={amount.strip()}?)"
                if amount.strip() and TYPE_RE.match(guess)
                else ""
            )
            raise ForecastInputError(f"--remaining expects TYPE=N (e.g. late_mail=331000), got {raw!r}{hint}")
        t, n = m.group(1), m.group(2).replace("_", "")
        try:
            val = float(n)
        except ValueError:
            digits = re.sub(r"[,.' ]", "", n)
            hint = (
                f" (write it without thousands separators: {t}={digits} or {t}={int(digits):_})"
                if digits.isdigit() and digits != n
                else ""
            )
            raise ForecastInputError(
                f"--remaining {t}: N must be a number, got {m.group(2)!r}{hint}"
            ) from None
        if t in out:
            raise ForecastInputError(f"--remaining gives {t!r} twice")
        out[t] = val
    return out


def as_of(count: Count, release: int | None) -> Count:
    """The count as it stood after release number ``release`` (all of it when ``None``)."""
    if release is None:
        return count
    ids = [int(r) for r in count.release_ids]
    if release not in ids:
        raise ForecastInputError(f"--as-of {release}: {count.name} has releases {ids[0]}..{ids[-1]}: {ids}")
    return count[: ids.index(release) + 1]
