"""Writing the report site to a folder: every file atomically, the chart scripts once.

[`write_site`][racecast.site.write_site] writes ``index.html``, one page per
contest under ``contests/`` and the ``assets/`` folder (styles, the index's
script, and the vega / vega-lite / vega-embed scripts with their licence).  Each
file is written to a temporary file in its own folder and renamed over the old
one, so a reader (or an interrupted ``racecast watch``) never sees half a page.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from ..ballot import Ballot
from ..ballot_forecast import BallotForecast
from .build import TimeZone, check_forecasts, index_rows, resolve_timezone
from .contest import contest_file, contest_page
from .pages import index_page, labels, page

__all__ = ["ASSETS", "write_atomic", "write_site"]

#: The files of the site's ``assets`` folder, shipped in ``racecast/site/assets``.
ASSETS = (
    "report.css",
    "report.js",
    "vega.min.js",
    "vega-lite.min.js",
    "vega-embed.min.js",
    "LICENSE-vega.txt",
)

#: Permissions of the files written (readable by everyone, as a web server needs).
_MODE = 0o644


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        os.chmod(tmp, _MODE)  # mkstemp makes the file private; a report is for reading
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _copy_assets(folder: Path) -> None:
    """Copy the assets that are missing or differ (the scripts are written once, not per page)."""
    source = resources.files("racecast.site") / "assets"
    for name in ASSETS:
        data = (source / name).read_bytes()
        target = folder / name
        if not target.is_file() or target.read_bytes() != data:
            write_atomic(target, data)


def write_site(
    ballot: Ballot,
    forecasts: Mapping[int, BallotForecast],
    out_dir: str | os.PathLike[str],
    *,
    inner: Mapping[int, BallotForecast] | None = None,
    timezone: TimeZone = None,
) -> Path:
    """Write a static report site of a ballot's forecasts; it opens from ``file://``, offline.

    Parameters
    ----------
    ballot
        The ballot ([`read_ballot`][racecast.read_ballot]) as it stands: its
        releases are listed on the index.
    forecasts
        ``{release: BallotForecast}`` for the releases forecast so far
        ([`forecast_ballot`][racecast.forecast_ballot] with ``as_of=release``);
        the latest is the one the index shows, and each contest page draws its
        P(win) and final-share interval after every one of them.
    out_dir
        Folder to write to (created if needed; files of an earlier run are
        replaced one by one, atomically).
    inner
        The same releases forecast with a narrower ``interval`` (e.g. 0.5, same
        seed), drawn as the inner band of the final-share fan chart.
    timezone
        Zone the release times are shown in: an IANA name
        (``"America/Los_Angeles"`` shows ``Nov 10 16:23 PST``), a ``tzinfo``
        (e.g. [`published_timezone`][racecast.site.published_timezone] of the
        ballot's files), or ``None`` for UTC.

    Returns
    -------
    pathlib.Path
        The site's ``index.html``.

    Examples
    --------
    >>> import warnings, tempfile, racecast
    >>> from racecast.site import write_site
    >>> ballot = racecast.read_ballot(racecast.example_path("la_county_2022"))
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", racecast.RacecastWarning)
    ...     fc = racecast.forecast_ballot(ballot, as_of=2, seed=1, processes=1, progress=False)
    >>> index = write_site(ballot[:2], {2: fc}, tempfile.mkdtemp(), timezone="America/Los_Angeles")
    >>> index.name, len(list(index.parent.glob("contests/*.html")))
    ('index.html', 18)
    """
    releases = check_forecasts(ballot, forecasts)
    if inner is not None:
        inner = {int(k): v for k, v in inner.items() if int(k) in releases} or None
    tz = resolve_timezone(timezone)
    out = Path(out_dir)
    _copy_assets(out / "assets")
    latest = forecasts[releases[-1]]
    rows = index_rows(latest)
    heading = f"{ballot.name}: release {releases[-1]}"
    release_labels = labels(ballot, tz)
    reasons = latest.ballot.rules["reason"]
    for contest in latest.contests.index:
        html = contest_page(
            str(contest), forecasts, inner, release_labels, tz, heading, str(reasons.at[contest])
        )
        write_atomic(out / contest_file(str(contest)), html)
    body = index_page(ballot, latest, rows, tz, releases)
    index = out / "index.html"
    write_atomic(index, page(f"{ballot.name} · forecast", body, root="", heading=heading))
    return index
