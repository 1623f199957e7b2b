"""The numbers a report site shows, read off a ballot and its forecasts release by release.

Every table here is plain pandas: [`index_rows`][racecast.site.build.index_rows]
(one row per contest, closest races first), [`history`][racecast.site.build.history]
(a contest's P(win) and final-share intervals after each release forecast) and
[`counted_outstanding`][racecast.site.build.counted_outstanding] (a contest's votes
counted and still expected, by batch type).  Times are shown in the jurisdiction's
time zone: [`published_timezone`][racecast.site.build.published_timezone] reads the
UTC offset a ballot's ``releases.csv`` was published with.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .._format import TimeZone, resolve_timezone
from ..ballot import Ballot
from ..ballot_forecast import BallotForecast
from ..errors import ForecastInputError
from ..outstanding import resolve_outstanding
from ..settings import DEFAULT_INTERVAL

__all__ = [
    "TimeZone",
    "check_forecasts",
    "contest_slug",
    "counted_outstanding",
    "history",
    "index_rows",
    "interval_of",
    "local_time",
    "published_timezone",
    "resolve_timezone",
]

#: Order of the statuses at the end of the index (contests with no probability to sort by).
_UNRATED = {"error": 0, "forecast": 1, "waiting": 2, "uncontested": 3}


def published_timezone(path: str | os.PathLike[str]) -> dt.tzinfo | None:
    """The UTC offset the last release of a ballot's ``releases.csv`` was published with.

    A ballot keeps its release times in UTC; the offset is read back from the
    file so the report shows times as the jurisdiction published them.  Returns
    ``None`` when the file or its ``released_at`` column is missing or blank.

    Examples
    --------
    >>> import racecast
    >>> published_timezone(racecast.example_path("la_county_2022"))
    datetime.timezone(datetime.timedelta(days=-1, seconds=57600), 'UTC-08:00')
    """
    p = Path(path)
    releases = p / "releases.csv" if p.is_dir() else p.with_name(p.name.replace("results", "releases"))
    try:
        with releases.open(newline="", encoding="utf-8-sig") as f:
            cells = [row.get("released_at") or "" for row in csv.DictReader(f)]
    except OSError:
        return None
    stamps = [pd.Timestamp(c) for c in cells if c.strip()]
    if not stamps or stamps[-1].tzinfo is None:
        return None
    offset = stamps[-1].utcoffset()
    if offset is None:
        return None
    hours, rest = divmod(int(offset.total_seconds()), 3600)
    return dt.timezone(offset, f"UTC{hours:+03d}:{rest // 60:02d}")


def local_time(at: pd.Timestamp | None, tz: dt.tzinfo, fmt: str = "%b %-d %H:%M %Z") -> str:
    """A release time in the jurisdiction's zone, e.g. ``Nov 10 16:23 PST`` (``""`` when unknown)."""
    if at is None or pd.isna(at):
        return ""
    return pd.Timestamp(at).tz_convert(tz).strftime(fmt)


def contest_slug(name: str) -> str:
    """A file name for a contest's page: readable, safe on every file system, unique by a short hash."""
    stem = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60].rstrip("-")
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    return f"{stem or 'contest'}-{digest}"


def interval_of(fc: BallotForecast) -> float:
    """The probability mass of a ballot forecast's final-share intervals."""
    return float(fc.settings.get("interval", DEFAULT_INTERVAL))


def check_forecasts(ballot: Ballot, forecasts: Mapping[int, BallotForecast]) -> list[int]:
    """The releases forecast, in order; each key must be a release of ``ballot`` and match its forecast."""
    if not forecasts:
        raise ForecastInputError("write_site() needs at least one forecast: {release: BallotForecast}")
    known = {int(r) for r in ballot.release_ids}
    for k, fc in forecasts.items():
        if not isinstance(fc, BallotForecast):
            raise ForecastInputError(f"forecasts[{k!r}] is a {type(fc).__name__}, not a BallotForecast")
        if int(k) not in known or int(fc.ballot.release_ids[-1]) != int(k):
            raise ForecastInputError(
                f"forecasts[{k!r}] is the ballot as of release {int(fc.ballot.release_ids[-1])}; "
                f"key it by that release (one of {sorted(known)})"
            )
    return sorted(int(k) for k in forecasts)


def _leader_rows(fc: BallotForecast) -> pd.DataFrame:
    """Each contest's row of the candidate table for its leader (most votes counted so far)."""
    table = fc.table.reset_index()
    leaders = table[table["leader"].astype(bool)].drop_duplicates("contest").set_index("contest")
    return leaders.reindex(fc.contests.index)


def index_rows(fc: BallotForecast) -> pd.DataFrame:
    """One row per contest, closest races first: status, leader, P, leader's interval, P(lead changes).

    Contests with a probability come first, lowest first (the closest races);
    then errors, unrated forecasts, waiting and uncontested contests.
    """
    c = fc.contests
    lead = _leader_rows(fc)
    rows = pd.DataFrame(
        {
            "contest_group": c["contest_group"].fillna(""),
            "status": c["status"],
            "leader": lead["candidate"].fillna(""),
            "outcome": c["outcome"].fillna(""),
            "probability": c["probability"].astype(float),
            "share_median": lead["final_share_median"].astype(float),
            "share_lower": lead["final_share_lower"].astype(float),
            "share_upper": lead["final_share_upper"].astype(float),
            "lead_change": lead["lead_change_probability"].astype(float),
            "votes": c["votes"].astype(int),
            "message": c["message"].fillna(""),
        },
        index=c.index,
    )
    rows["slug"] = [contest_slug(name) for name in rows.index]
    rated = rows["probability"].notna() & (rows["status"] != "uncontested")
    rank = np.where(rated, -1, rows["status"].map(_UNRATED).fillna(0).to_numpy())
    order = np.lexsort((np.arange(len(rows)), rows["probability"].fillna(2.0).to_numpy(), rank))
    return rows.iloc[order]


def history(
    contest: str,
    forecasts: Mapping[int, BallotForecast],
    labels: Mapping[int, str],
    inner: Mapping[int, BallotForecast] | None = None,
) -> pd.DataFrame:
    """A contest's forecast after each release: one row per (release, candidate).

    Columns ``release``, ``label`` (release number and local date), ``candidate``,
    ``win_probability``, ``median``, ``lower``, ``upper`` (the forecasts'
    interval) and, when ``inner`` forecasts are given, ``inner_lower`` and
    ``inner_upper`` (their narrower interval).  Releases where the contest was
    not modelled (waiting, error) have missing values.
    """
    parts = []
    for k in sorted(forecasts):
        t = forecasts[k].table.loc[contest]
        part = pd.DataFrame(
            {
                "release": k,
                "label": labels[k],
                "candidate": t.index.astype(str),
                "win_probability": t["win_probability"].to_numpy(dtype=float),
                "median": t["final_share_median"].to_numpy(dtype=float),
                "lower": t["final_share_lower"].to_numpy(dtype=float),
                "upper": t["final_share_upper"].to_numpy(dtype=float),
            }
        )
        if inner is not None and k in inner:
            ti = inner[k].table.loc[contest]
            part["inner_lower"] = ti["final_share_lower"].to_numpy(dtype=float)
            part["inner_upper"] = ti["final_share_upper"].to_numpy(dtype=float)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def counted_outstanding(ballot: Ballot, contest: str) -> tuple[pd.DataFrame, str]:
    """A contest's votes counted by batch type and the votes still expected, with a note.

    Returns a table with columns ``batch_type``, ``kind`` (``counted`` or
    ``outstanding``) and ``votes``; outstanding votes are the jurisdiction's
    latest outstanding ballots of each type times the contest's votes per ballot
    counted so far, as the model reads them
    ([`resolve_outstanding`][racecast.outstanding.resolve_outstanding]).  The note
    says when no estimate exists or an estimate is stale.
    """
    count = ballot.contest(contest)
    added = count.increments.sum(axis=1).to_numpy()
    counted = pd.Series(added, index=list(count.release_batch_types)).groupby(level=0, sort=False).sum()
    rows = [(str(t), "counted", float(v)) for t, v in counted.items()]
    note = ""
    try:
        out = resolve_outstanding(count)
    except ForecastInputError as exc:
        note = str(exc)
    else:
        rows += [(t, "outstanding", v) for t, v in out.votes.items() if v > 0]
        note = " ".join(out.stale)
    return pd.DataFrame(rows, columns=["batch_type", "kind", "votes"]), note
