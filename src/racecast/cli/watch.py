"""``racecast watch SOURCE --html OUT``: follow a ballot folder, forecast each new release, write the report.

The folder is polled (``--poll`` seconds): when its ballot files change, the ballot
is read again (a file caught half-written is read again at the next poll), each
release not forecast yet is forecast, what changed is logged on standard error (the
release, contests whose status or leader changed) and the report site is rewritten.
Every file of the site is replaced atomically, so stopping the command (Ctrl-C)
at any moment leaves the last complete report.
"""

from __future__ import annotations

import datetime as dt
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from ..ballot import Ballot
from ..ballot_forecast import BallotForecast
from ..errors import ForecastInputError, InputError, RacecastWarning
from ..io import read_ballot
from ..settings import DEFAULT_DRAWS, DEFAULT_INTERVAL
from ..site import write_site
from ..site.build import index_rows, local_time
from ._options import DEFAULT_ENGINE_CHOICE, DrawsOption, EngineOption, IntervalOption, SeedOption
from ._output import reporting, say
from .ballot import BallotPlan, ProcessesOption, TimezoneOption, make_plan, site_timezone

__all__ = ["Watcher", "changes", "watch_command"]

_Source = Annotated[
    Path,
    typer.Argument(
        help="Ballot folder to follow (results.csv, releases.csv, contests.csv) or its results file.",
        show_default=False,
    ),
]
_Html = Annotated[Path, typer.Option("--html", metavar="OUT", help="Folder of the report site (rewritten).")]
_Poll = Annotated[float, typer.Option("--poll", metavar="SECONDS", help="Seconds between looks at SOURCE.")]
_MaxReleases = Annotated[
    int | None,
    typer.Option(
        "--max-releases", metavar="N", help="Stop after forecasting N releases.", show_default=False
    ),
]
_Once = Annotated[bool, typer.Option("--once", help="Forecast what is there now, write the report, stop.")]
_Backfill = Annotated[
    bool,
    typer.Option(
        "--backfill/--no-backfill",
        help="At start, forecast every release already published (default: only the latest).",
    ),
]


def _files(source: Path) -> tuple[Path, ...]:
    if source.is_dir():
        return tuple(source / f"{n}.csv" for n in ("results", "releases", "contests"))
    return tuple(
        source.with_name(source.name.replace("results", n)) for n in ("results", "releases", "contests")
    )


def _signature(source: Path) -> tuple[tuple[int, int], ...]:
    """Size and modification time of each ballot file (``(-1, -1)`` when missing)."""
    out = []
    for f in _files(source):
        try:
            st = f.stat()
            out.append((st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((-1, -1))
    return tuple(out)


def changes(before: BallotForecast | None, after: BallotForecast) -> list[str]:
    """Contests whose status or counted leader changed between two forecasts, one phrase each."""
    if before is None:
        return []
    old, new = index_rows(before), index_rows(after)
    out = []
    for name in new.index.intersection(old.index):
        for col, what in (("status", "status"), ("leader", "leader")):
            a, b = str(old.at[name, col]), str(new.at[name, col])
            if a != b:
                out.append(f"{name}: {what} {a or '-'} -> {b or '-'}")
    return out


@dataclass
class Watcher:
    """The state of a watch: what was forecast so far, and where the report goes."""

    source: Path
    out: Path
    plan: BallotPlan
    tz: dt.tzinfo
    backfill: bool = False
    forecasts: dict[int, BallotForecast] = field(default_factory=dict)
    inner: dict[int, BallotForecast] = field(default_factory=dict)
    signature: tuple[tuple[int, int], ...] | None = None

    def _pending(self, ballot: Ballot) -> list[int]:
        ids = [int(r) for r in ballot.release_ids]
        if not self.forecasts:
            return ids if self.backfill else ids[-1:]
        return [k for k in ids if k > max(self.forecasts)]

    def _forecast(self, ballot: Ballot, k: int) -> None:
        start = time.perf_counter()
        previous = self.forecasts[max(self.forecasts)] if self.forecasts else None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RacecastWarning)
            fc, band = self.plan.run(ballot, k)
        self.forecasts[k] = fc
        if band is not None:
            self.inner[k] = band
        index = write_site(
            ballot.as_of(k), self.forecasts, self.out, inner=self.inner or None, timezone=self.tz
        )
        i = int(list(ballot.release_ids).index(k))
        when = local_time(ballot.released_at.iloc[i], self.tz)
        counts = ", ".join(f"{n} {s}" for s, n in fc.status_counts.items())
        say(
            "release",
            f"{k} ({when or 'no time'}, {ballot.release_batch_types[i]}): {counts}; "
            f"{time.perf_counter() - start:.1f} s; report {index}",
        )
        for line in changes(previous, fc):
            say("changed", line)
        for message in dict.fromkeys(str(w.message) for w in caught):
            say("warning", message)

    def step(self, limit: int | None = None) -> int:
        """Look at the source once; forecast new releases (at most ``limit``); return how many."""
        signature = _signature(self.source)
        if signature == self.signature:
            return 0
        try:
            ballot = read_ballot(self.source)
        except (InputError, OSError) as exc:
            say("waiting", f"cannot read {self.source} yet ({exc}); trying again")
            return 0
        self.signature = signature
        done = 0
        for k in self._pending(ballot):
            if limit is not None and done >= limit:
                break
            self._forecast(ballot, k)
            done += 1
        return done

    def follow(
        self, poll: float, max_releases: int | None, once: bool, sleep: Callable[[float], None] = time.sleep
    ) -> int:
        """Poll until ``max_releases`` releases are forecast (forever when ``None``) or once."""
        done = 0
        while True:
            left = None if max_releases is None else max_releases - done
            done += self.step(left)
            if once or (max_releases is not None and done >= max_releases):
                return done
            sleep(poll)


def watch_command(
    ctx: typer.Context,
    source: _Source,
    html: _Html,
    poll: _Poll = 2.0,
    max_releases: _MaxReleases = None,
    once: _Once = False,
    backfill: _Backfill = False,
    timezone: TimezoneOption = None,
    engine: EngineOption = DEFAULT_ENGINE_CHOICE,
    seed: SeedOption = None,
    draws: DrawsOption = DEFAULT_DRAWS,
    interval: IntervalOption = DEFAULT_INTERVAL,
    processes: ProcessesOption = None,
) -> None:
    """Follow a ballot folder: forecast each new release and rewrite the report site."""
    with reporting(ctx):
        if poll <= 0:
            raise ForecastInputError(f"--poll must be > 0 seconds, got {poll}")
        plan = make_plan(engine.value, seed, draws, interval, processes, bands=True)
        watcher = Watcher(source, html, plan, site_timezone(source, timezone), backfill=backfill)
        say("info", f"watching {source} every {poll:g} s (seed {plan.seed}); Ctrl-C stops")
        try:
            done = watcher.follow(poll, max_releases, once)
        except KeyboardInterrupt:
            done = len(watcher.forecasts)
            say("info", "stopped")
        latest = max(watcher.forecasts) if watcher.forecasts else None
        where = f"; report {html / 'index.html'} is as of release {latest}" if latest is not None else ""
        say("info", f"{done} release(s) forecast{where}")
