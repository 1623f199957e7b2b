"""``racecast watch SOURCE --html OUT``: follow a ballot, forecast each new release, write the report.

SOURCE is one of

* a ballot folder (``results.csv``, ``releases.csv``, ``contests.csv``) or its results
  file, read with [`read_ballot`][racecast.read_ballot];
* a folder of Clarity ``detail.xml`` (or ``detailxml.zip``) snapshots, read together
  with [`read_clarity_ballot`][racecast.read_clarity_ballot] as new ones appear;
* the URL of a Clarity ``detail.xml``/``detailxml.zip``: fetched at every poll, each
  new version kept as a numbered snapshot in ``--snapshots`` (default
  ``OUT/snapshots``), and that folder followed as above.

SOURCE is polled (``--poll`` seconds): when its files change, the ballot is read again
(a file caught half-written is read again at the next poll, a URL that cannot be
fetched is tried again), each release not forecast yet is forecast, what changed is
logged on standard error (the release, contests whose status or leader changed) and
the report site is rewritten.  Every file of the site and every snapshot is written
atomically, so stopping the command (Ctrl-C) at any moment leaves the last complete
report.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from ..ballot import Ballot
from ..ballot_forecast import BallotForecast
from ..errors import ForecastInputError, InputError, RacecastWarning
from ..io import read_ballot, read_clarity_ballot
from ..io._clarity_xml import clarity_utc_offset
from ..settings import DEFAULT_DRAWS, DEFAULT_INTERVAL, DEFAULT_SHARED_SCALES
from ..site import write_site
from ..site.build import index_rows, local_time
from ._options import (
    DEFAULT_ENGINE_CHOICE,
    DrawsOption,
    EngineOption,
    IntervalOption,
    PriorsOption,
    SeedOption,
)
from ._output import reporting, say
from .ballot import BallotPlan, ProcessesOption, SharedScalesOption, TimezoneOption, make_plan, site_timezone

__all__ = ["Watcher", "changes", "watch_command"]

_Source = Annotated[
    str,
    typer.Argument(
        metavar="SOURCE",
        help="Ballot folder (results.csv, releases.csv, contests.csv) or its results file; a folder of "
        "Clarity detail.xml snapshots; or the http(s) URL of a Clarity detail.xml or detailxml.zip.",
        show_default=False,
    ),
]
_Snapshots = Annotated[
    Path | None,
    typer.Option(
        "--snapshots",
        metavar="DIR",
        help="Where each new version fetched from a URL is kept (default: OUT/snapshots).",
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


CLARITY_SUFFIXES = (".xml", ".zip")
"""Files of a folder read as Clarity snapshots."""


@dataclass
class Source:
    """What a watch follows: a ballot folder or file, a folder of Clarity snapshots, or a URL."""

    spec: str
    snapshots: Path | None = None
    _last: bytes = b""

    @property
    def url(self) -> str | None:
        return self.spec if self.spec.startswith(("http://", "https://")) else None

    @property
    def path(self) -> Path:
        """The folder or file read (for a URL: the snapshot folder)."""
        if self.url is None:
            return Path(self.spec)
        return self.snapshots if self.snapshots is not None else Path("snapshots")

    def clarity_files(self) -> list[Path]:
        p = self.path
        if not p.is_dir():
            return []
        return sorted(f for f in p.iterdir() if f.suffix.lower() in CLARITY_SUFFIXES and f.is_file())

    def files(self) -> tuple[Path, ...]:
        clarity = self.clarity_files()
        if self.url is not None or clarity:
            return tuple(clarity)
        p = self.path
        if p.is_dir():
            return tuple(p / f"{n}.csv" for n in ("results", "releases", "contests"))
        return tuple(p.with_name(p.name.replace("results", n)) for n in ("results", "releases", "contests"))

    def fetch(self) -> None:
        """For a URL: fetch it; keep a new version as the next numbered snapshot (atomically)."""
        if self.url is None:
            return
        with urllib.request.urlopen(self.url, timeout=60) as response:
            body = response.read()
        if not body or body == self._last:
            return
        folder = self.path
        folder.mkdir(parents=True, exist_ok=True)
        present = self.clarity_files()
        self._last = body
        if any(f.read_bytes() == body for f in present):  # a restart sees the version it kept last time
            return
        suffix = ".zip" if body[:2] == b"PK" else ".xml"
        target = folder / f"snapshot_{len(present) + 1:04d}{suffix}"
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
        with os.fdopen(fd, "wb") as f:
            f.write(body)
        os.replace(tmp, target)
        say("fetched", f"{self.url} -> {target} ({len(body):,} bytes)")

    def read(self) -> Ballot:
        files = self.clarity_files()
        if self.url is not None or files:
            if not files:
                raise ForecastInputError(f"no snapshot fetched from {self.url} yet")
            return read_clarity_ballot(files)
        return read_ballot(self.path)

    def timezone(self, zone: str | None) -> dt.tzinfo:
        """``--timezone``, else the offset the source was published with, else UTC."""
        files = self.clarity_files()
        if zone is not None or not files:
            return site_timezone(self.path, zone)
        return clarity_utc_offset(files[-1]) or dt.UTC


def _signature(source: Source) -> tuple[tuple[str, int, int], ...]:
    """Name, size and modification time of each file of the source (``-1`` when missing)."""
    out = []
    for f in source.files():
        try:
            st = f.stat()
            out.append((f.name, st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((f.name, -1, -1))
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

    source: Source
    out: Path
    plan: BallotPlan
    tz: dt.tzinfo | None  # None: the zone the source was published with, read at its first read
    backfill: bool = False
    forecasts: dict[int, BallotForecast] = field(default_factory=dict)
    inner: dict[int, BallotForecast] = field(default_factory=dict)
    signature: tuple[tuple[str, int, int], ...] | None = None

    def _pending(self, ballot: Ballot) -> list[int]:
        ids = [int(r) for r in ballot.release_ids]
        if not self.forecasts:
            return ids if self.backfill else ids[-1:]
        return [k for k in ids if k > max(self.forecasts)]

    def _forecast(self, ballot: Ballot, k: int) -> None:
        start = time.perf_counter()
        tz = self.tz or dt.UTC
        previous = self.forecasts[max(self.forecasts)] if self.forecasts else None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RacecastWarning)
            fc, band = self.plan.run(ballot, k)
        self.forecasts[k] = fc
        if band is not None:
            self.inner[k] = band
        index = write_site(ballot.as_of(k), self.forecasts, self.out, inner=self.inner or None, timezone=tz)
        i = int(list(ballot.release_ids).index(k))
        when = local_time(ballot.released_at.iloc[i], tz)
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
        try:
            self.source.fetch()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            say("waiting", f"cannot fetch {self.source.url} ({exc}); trying again")
        signature = _signature(self.source)
        if signature == self.signature:
            return 0
        try:
            ballot = self.source.read()
        except (InputError, OSError) as exc:
            say("waiting", f"cannot read {self.source.path} yet ({exc}); trying again")
            return 0
        self.signature = signature
        if self.tz is None:  # known only once there is something to read (a URL fetched, a snapshot dropped)
            self.tz = self.source.timezone(None)
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
    snapshots: _Snapshots = None,
    timezone: TimezoneOption = None,
    engine: EngineOption = DEFAULT_ENGINE_CHOICE,
    seed: SeedOption = None,
    draws: DrawsOption = DEFAULT_DRAWS,
    interval: IntervalOption = DEFAULT_INTERVAL,
    processes: ProcessesOption = None,
    shared_scales: SharedScalesOption = DEFAULT_SHARED_SCALES,
    priors: PriorsOption = None,
) -> None:
    """Follow a ballot (folder, Clarity snapshots or URL): forecast each new release, rewrite the report."""
    with reporting(ctx):
        if poll <= 0:
            raise ForecastInputError(f"--poll must be > 0 seconds, got {poll}")
        plan = make_plan(engine.value, seed, draws, interval, processes, True, shared_scales, priors)
        followed = Source(source, snapshots if snapshots is not None else html / "snapshots")
        tz = followed.timezone(timezone) if timezone is not None else None  # else read from the source
        watcher = Watcher(followed, html, plan, tz, backfill=backfill)
        say("info", f"watching {source} every {poll:g} s (seed {plan.seed}); Ctrl-C stops")
        try:
            done = watcher.follow(poll, max_releases, once)
        except KeyboardInterrupt:
            done = len(watcher.forecasts)
            say("info", "stopped")
        latest = max(watcher.forecasts) if watcher.forecasts else None
        where = f"; report {html / 'index.html'} is as of release {latest}" if latest is not None else ""
        say("info", f"{done} release(s) forecast{where}")
