"""``racecast ballot PATH``: every contest of a ballot forecast once, as a table, JSON, CSV or a report site.

``--format csv`` is [`BallotForecast.table`][racecast.BallotForecast.table] (one row
per contest and candidate); ``--format json`` holds that table and
[`BallotForecast.contests`][racecast.BallotForecast.contests] (one row per contest)
as records; the readable table lists the contests closest race first.  ``--html OUT``
also writes the report site ([`write_site`][racecast.site.write_site]).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from .._version import __version__
from ..ballot import Ballot
from ..ballot_forecast import BallotForecast, forecast_ballot
from ..errors import ForecastInputError
from ..io import read_ballot
from ..settings import DEFAULT_DRAWS, DEFAULT_INTERVAL, DEFAULT_SHARED_SCALES
from ..site import published_timezone, write_site
from ..site.build import index_rows, local_time, resolve_timezone
from ._options import (
    DEFAULT_ENGINE_CHOICE,
    AsOfOption,
    DrawsOption,
    EngineOption,
    ExampleOption,
    FormatOption,
    IntervalOption,
    PriorsOption,
    SeedOption,
    priors_kwargs,
    source_path,
)
from ._output import OutputFormat, Report, reporting, say, stderr_console, write_output

__all__ = [
    "INNER_INTERVAL",
    "BallotPlan",
    "HtmlOption",
    "ProcessesOption",
    "TimezoneOption",
    "ballot_command",
    "make_plan",
    "site_timezone",
]

#: Mass of the inner band of the report's fan chart (the outer band is ``--interval``).
INNER_INTERVAL = 0.5

BallotPath = Annotated[
    Path | None,
    typer.Argument(
        help="Ballot folder (results.csv, releases.csv, contests.csv; see docs/ballot-format.md) or its "
        "results file.",
        show_default=False,
    ),
]
HtmlOption = Annotated[
    Path | None,
    typer.Option("--html", metavar="OUT", help="Write the report site to this folder.", show_default=False),
]
TimezoneOption = Annotated[
    str | None,
    typer.Option(
        "--timezone",
        metavar="ZONE",
        help="Time zone of the report's times, e.g. America/Los_Angeles (default: the UTC offset the "
        "releases were published with).",
        show_default=False,
    ),
]
ProcessesOption = Annotated[
    int | None,
    typer.Option(help="Worker processes (default: every core; 1 runs in this process).", show_default=False),
]
SharedScalesOption = Annotated[
    bool,
    typer.Option(
        "--shared-scales/--no-shared-scales",
        help="Learn the model's scales across the ballot's contests (racecast.share_scales; "
        "docs/calibration.md says why it is off by default).",
    ),
]
_HistoryOption = Annotated[
    bool,
    typer.Option(
        "--history/--no-history",
        help="With --html: forecast every release up to --as-of, so the report shows P(win) after each.",
    ),
]


@dataclass(frozen=True)
class BallotPlan:
    """How each release of a ballot is forecast: the options of ``racecast ballot`` and ``watch``."""

    engine: str
    seed: int
    draws: int
    interval: float
    processes: int | None
    bands: bool
    shared_scales: bool = DEFAULT_SHARED_SCALES
    # forecast's priors (and outstanding_sd), from --priors
    priors: dict[str, Any] = field(default_factory=dict)

    def run(self, ballot: Ballot, release: int) -> tuple[BallotForecast, BallotForecast | None]:
        """The ballot forecast as of ``release`` and, for the report's inner band, at the inner interval."""
        kw: dict[str, Any] = {
            "as_of": release,
            "seed": self.seed,
            "engine": self.engine,
            "draws": self.draws,
            "processes": self.processes,
            "progress": stderr_console().is_terminal,
            "shared_scales": self.shared_scales,
            **self.priors,
        }
        fc = forecast_ballot(ballot, interval=self.interval, **kw)
        inner = forecast_ballot(ballot, interval=INNER_INTERVAL, **kw) if self.bands else None
        return fc, inner


def make_plan(
    engine: str,
    seed: int | None,
    draws: int,
    interval: float,
    processes: int | None,
    bands: bool,
    shared_scales: bool = DEFAULT_SHARED_SCALES,
    priors: Path | None = None,
) -> BallotPlan:
    """A plan with a fixed seed (a fresh one when ``None``), so every release and band shares it.

    ``priors`` is a ``--priors`` file, read once here (a bad file stops before any forecast).
    """
    fixed = int(np.random.SeedSequence().generate_state(1)[0]) if seed is None else seed
    inner = bands and interval > INNER_INTERVAL
    return BallotPlan(engine, fixed, draws, interval, processes, inner, shared_scales, priors_kwargs(priors))


def site_timezone(path: str | os.PathLike[str], zone: str | None) -> dt.tzinfo:
    """``--timezone`` when given, else the offset the ballot's releases were published with (else UTC)."""
    if zone is not None:
        return resolve_timezone(zone)
    return published_timezone(path) or dt.UTC


def _round(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(value) else round(float(value), 4)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _round(v) for k, v in r.items()} for r in frame.reset_index().to_dict(orient="records")]


def ballot_dict(fc: BallotForecast) -> dict[str, Any]:
    """The JSON output: the ballot, the release, the settings, and both tables as records."""
    at = fc.ballot.released_at.iloc[-1]
    return {
        "racecast_version": __version__,
        "ballot": fc.ballot.name,
        "as_of_release": int(fc.ballot.release_ids[-1]),
        "released_at": None if pd.isna(at) else at.isoformat(),
        "settings": {k: _round(v) for k, v in fc.settings.items()},
        "status_counts": {str(k): int(v) for k, v in fc.status_counts.items()},
        "contests": _records(fc.contests.drop(columns=["seconds"])),
        "candidates": _records(fc.table),
    }


def ballot_csv(fc: BallotForecast) -> str:
    """The CSV output: one row per contest and candidate."""
    return str(fc.table.reset_index().to_csv(index=False, float_format="%.6g"))


def ballot_report(fc: BallotForecast, tz: dt.tzinfo) -> Report:
    """Heading, table (closest race first) and footer of the readable output."""
    rows = index_rows(fc)
    when = local_time(fc.ballot.released_at.iloc[-1], tz)
    heading = (
        f"{fc.ballot.name}: {len(rows)} contests as of release {int(fc.ballot.release_ids[-1])}"
        f"{f' ({when})' if when else ''}; engine {fc.settings.get('engine')}, seed {fc.settings.get('seed')}"
    )
    table = Table()
    for name in ("contest", "status", "most likely"):
        table.add_column(name)
    table.add_column("P", justify="right")
    table.add_column("votes", justify="right")
    for name, r in rows.iterrows():
        p = "" if not math.isfinite(r["probability"]) else f"{r['probability']:.3f}"
        table.add_row(str(name), str(r["status"]), str(r["outcome"]), p, f"{int(r['votes']):,}")
    footer = ", ".join(f"{n} {s}" for s, n in fc.status_counts.items())
    return heading, table, footer


def ballot_command(
    ctx: typer.Context,
    path: BallotPath = None,
    as_of_release: AsOfOption = None,
    html: HtmlOption = None,
    history: _HistoryOption = False,
    timezone: TimezoneOption = None,
    engine: EngineOption = DEFAULT_ENGINE_CHOICE,
    seed: SeedOption = None,
    draws: DrawsOption = DEFAULT_DRAWS,
    interval: IntervalOption = DEFAULT_INTERVAL,
    processes: ProcessesOption = None,
    shared_scales: SharedScalesOption = DEFAULT_SHARED_SCALES,
    priors: PriorsOption = None,
    output: FormatOption = OutputFormat.table,
    example: ExampleOption = None,
) -> None:
    """Forecast every contest of a ballot once (and write the report site with --html)."""
    path = source_path(path, example, "path")
    with reporting(ctx):
        ballot = read_ballot(path)
        tz = site_timezone(path, timezone)
        last = int(ballot.release_ids[-1]) if as_of_release is None else as_of_release
        if last not in {int(r) for r in ballot.release_ids}:
            ids = [int(r) for r in ballot.release_ids]
            raise ForecastInputError(f"--as-of {last}: {ballot.name} has releases {ids}")
        plan = make_plan(
            engine.value, seed, draws, interval, processes, html is not None, shared_scales, priors
        )
        wanted = [int(r) for r in ballot.release_ids if int(r) <= last] if history and html else [last]
        forecasts: dict[int, BallotForecast] = {}
        inner: dict[int, BallotForecast] = {}
        for k in wanted:
            forecasts[k], band = plan.run(ballot, k)
            if band is not None:
                inner[k] = band
        fc = forecasts[last]
        if html is not None:
            index = write_site(ballot.as_of(last), forecasts, html, inner=inner or None, timezone=tz)
            say("info", f"report written to {index}")
        write_output(
            output,
            as_json=lambda: ballot_dict(fc),
            as_csv=lambda: ballot_csv(fc),
            as_report=lambda: ballot_report(fc, tz),
        )
