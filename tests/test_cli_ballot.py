"""``racecast ballot`` and ``racecast watch``, driven through typer's test runner."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import racecast
from racecast.cli import EXIT_BAD_INPUT, app
from racecast.cli.ballot import make_plan
from racecast.cli.watch import Source, Watcher, changes

pytest.importorskip("altair")

REPO = Path(__file__).resolve().parents[1]
SLICE = racecast.example_path("la_county_2022")
MAYOR = "LOS ANGELES CITY GENERAL MUNICIPAL ELECTION Mayor"
FAST = ("--engine", "fast", "--draws", "400", "--seed", "5", "--processes", "1")


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def ballot_until(folder: Path, k: int) -> Path:
    """A copy of the bundled ballot with only its first ``k`` releases."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SLICE / "contests.csv", folder / "contests.csv")
    for name in ("results.csv", "releases.csv"):
        with (SLICE / name).open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        with (folder / f".{name}").open("w", newline="", encoding="utf-8") as f:
            out = csv.DictWriter(f, fieldnames=list(rows[0]))
            out.writeheader()
            out.writerows(r for r in rows if int(r["release"]) <= k)
        (folder / f".{name}").replace(folder / name)
    return folder


def documented_ballot_keys() -> set[str]:
    text = (REPO / "docs" / "cli.md").read_text()
    return set(re.findall(r"^\| `ballot\.([a-z_]+)` \|", text, re.MULTILINE))


def test_ballot_json_has_the_documented_keys_and_matches_the_library():
    result = run("ballot", SLICE, "--as-of", "2", *FAST, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc) == documented_ballot_keys()
    assert doc["as_of_release"] == 2
    docs = (REPO / "docs" / "cli.md").read_text()
    for part in ("contests", "candidates"):
        for key in doc[part][0]:
            assert f"`{key}`" in docs, key
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        lib = racecast.forecast_ballot(
            racecast.read_ballot(SLICE),
            as_of=2,
            seed=5,
            engine="fast",
            draws=400,
            processes=1,
            progress=False,
        )
    got = {c["contest"]: c for c in doc["contests"]}
    for name, row in lib.contests.iterrows():
        assert got[name]["status"] == row["status"]
        assert got[name]["probability"] == pytest.approx(row["probability"], abs=1e-4)


def test_ballot_csv_is_the_forecast_table():
    result = run("ballot", SLICE, "--as-of", "1", *FAST, "--format", "csv")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(result.stdout))
    assert list(table.columns[:2]) == ["contest", "candidate"]
    assert {"win_probability", "final_share_lower", "status"} <= set(table.columns)
    assert table["contest"].nunique() == 18


def test_ballot_table_lists_every_contest_closest_first():
    result = run("ballot", SLICE, "--as-of", "2", *FAST)
    assert result.exit_code == 0, result.output
    assert "as of release 2 (Nov 10 16:23 UTC-08:00)" in result.stdout
    assert result.stdout.index("MEMBER OF THE STATE ASSEMBLY, 40th") < result.stdout.index("GOVERNOR")


def test_ballot_html_writes_the_report_in_the_given_zone(tmp_path):
    result = run(
        "ballot",
        SLICE,
        "--as-of",
        "2",
        "--history",
        "--html",
        tmp_path,
        "--timezone",
        "America/Los_Angeles",
        *FAST,
    )
    assert result.exit_code == 0, result.output
    index = (tmp_path / "index.html").read_text()
    assert "Nov 10 16:23 PST" in index
    assert index.count("<tr data-contest=") == 18
    assert "report written to" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--as-of", "99"), "--as-of 99"),
        (("--timezone", "Nowhere/City"), "unknown time zone"),
    ],
)
def test_ballot_bad_options_exit_2_with_one_line(args, message, tmp_path):
    result = run("ballot", SLICE, *args, "--html", tmp_path, *FAST)
    assert result.exit_code == EXIT_BAD_INPUT
    assert message in result.stderr


def test_watch_once_forecasts_the_latest_release_and_writes_the_report(tmp_path):
    source = ballot_until(tmp_path / "feed", 3)
    result = run("watch", source, "--html", tmp_path / "out", "--once", *FAST)
    assert result.exit_code == 0, result.output
    assert "release: 3 (Nov 11 16:09 UTC-08:00, late_mail)" in result.stderr
    assert "forecast as of release 3" in (tmp_path / "out" / "index.html").read_text()


def test_watch_follows_the_folder_as_releases_arrive(tmp_path, capsys):
    source = ballot_until(tmp_path / "feed", 1)
    plan = make_plan("fast", 5, 400, 0.9, 1, bands=True)
    watcher = Watcher(Source(str(source)), tmp_path / "out", plan, racecast.site.published_timezone(source))
    arrivals = iter([2, 3])

    def sleep(_seconds: float) -> None:  # the county publishes its next release while we wait
        k = next(arrivals, None)
        if k is not None:
            ballot_until(source, k)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        assert watcher.follow(0.0, max_releases=3, once=False, sleep=sleep) == 3
    assert sorted(watcher.forecasts) == [1, 2, 3]
    index = (tmp_path / "out" / "index.html").read_text()
    assert "forecast as of release 3" in index
    err = capsys.readouterr().err
    assert [int(k) for k in re.findall(r"racecast: release: (\d+)", err)] == [1, 2, 3]


def test_watch_waits_for_a_ballot_that_cannot_be_read_yet(tmp_path, capsys):
    source = tmp_path / "feed"
    source.mkdir()
    watcher = Watcher(
        Source(str(source)), tmp_path / "out", make_plan("fast", 5, 400, 0.9, 1, bands=False), tz=None
    )
    assert watcher.step() == 0
    assert "cannot read" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


CLARITY = REPO / "tests" / "data" / "clarity"


def test_watch_follows_a_folder_of_clarity_snapshots_as_they_appear(tmp_path, capsys):
    feed = tmp_path / "feed"
    feed.mkdir()
    shutil.copy(CLARITY / "detail_1.xml", feed)
    followed = Source(str(feed))
    assert followed.timezone(None) == dt.timezone(-dt.timedelta(hours=5))  # the snapshots' EST
    watcher = Watcher(followed, tmp_path / "out", make_plan("fast", 5, 400, 0.9, 1, bands=False), tz=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        first = watcher.step()
        assert watcher.step() == 0  # nothing new
        for k in (2, 3):
            shutil.copy(CLARITY / f"detail_{k}.xml", feed)
        later = watcher.step()
    expected = racecast.read_clarity_ballot(sorted(CLARITY.glob("detail_*.xml")))
    assert first == 1
    assert max(watcher.forecasts) == int(expected.release_ids[-1])
    assert first + later == 1 + len(expected) - len(racecast.read_clarity_ballot([CLARITY / "detail_1.xml"]))
    assert "Mayor" in (tmp_path / "out" / "index.html").read_text()
    assert "racecast: release:" in capsys.readouterr().err


def test_watch_fetches_a_clarity_url_and_keeps_each_new_version(tmp_path, capsys):
    import http.server
    import threading

    served = {"body": (CLARITY / "detail_1.xml").read_bytes()}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(served["body"])

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/detail.xml"
        followed = Source(url, tmp_path / "snapshots")
        plan = make_plan("fast", 5, 400, 0.9, 1, bands=False)
        watcher = Watcher(followed, tmp_path / "out", plan, tz=None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", racecast.RacecastWarning)
            assert watcher.step() == 1
            assert watcher.step() == 0  # the same version again: nothing kept, nothing forecast
            served["body"] = (CLARITY / "detail_2.xml").read_bytes()
            assert watcher.step() >= 1
    finally:
        server.shutdown()
    kept = sorted(p.name for p in (tmp_path / "snapshots").iterdir())
    assert kept == ["snapshot_0001.xml", "snapshot_0002.xml"]
    assert watcher.tz == dt.timezone(-dt.timedelta(hours=5))  # read from the first snapshot fetched (EST)
    assert (tmp_path / "snapshots" / "snapshot_0002.xml").read_bytes() == served["body"]
    err = capsys.readouterr().err
    assert err.count("racecast: fetched:") == 2


def test_watch_says_when_a_url_cannot_be_fetched_and_carries_on(tmp_path, capsys):
    followed = Source("http://127.0.0.1:9/detail.xml", tmp_path / "snapshots")  # port 9: nothing listens
    watcher = Watcher(followed, tmp_path / "out", make_plan("fast", 5, 400, 0.9, 1, bands=False), tz=None)
    assert watcher.step() == 0
    err = capsys.readouterr().err
    assert "cannot fetch http://127.0.0.1:9/detail.xml" in err
    assert "no snapshot fetched" in err


def test_changes_names_contests_whose_status_or_leader_moved():
    ballot = racecast.read_ballot(SLICE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        two, three = (
            racecast.forecast_ballot(ballot, as_of=k, seed=5, draws=400, processes=1, progress=False)
            for k in (2, 3)
        )
    lines = changes(two, three)  # Nov 11: Bass overtakes Caruso in the count
    assert f"{MAYOR}: leader RICK J. CARUSO -> KAREN RUTH BASS" in lines
    assert f"{MAYOR}: status too close to call -> likely" in lines
    assert changes(None, two) == []


def test_ballot_shared_scales_are_learned_and_recorded(tmp_path):
    result = run("ballot", SLICE, "--as-of", "4", "--format", "json", "--shared-scales", *FAST)
    assert result.exit_code == 0, result.output
    shared = json.loads(result.stdout)["settings"]["shared_scales"]
    assert shared["contests"] == 16  # the slice's contests with votes and a race to forecast
    assert {"type_sd", "batch_sd", "gain", "skipped", "at_bound"} <= set(shared)
    plain = json.loads(run("ballot", SLICE, "--as-of", "4", "--format", "json", *FAST).stdout)
    assert "shared_scales" not in plain["settings"]  # off by default
