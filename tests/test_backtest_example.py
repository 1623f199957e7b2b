"""The backtest example: its NYT reader and an LA-only run (the NYT data is third-party, read in place)."""

from __future__ import annotations

import csv
import importlib.util
import warnings
from pathlib import Path

import pytest

import racecast

ROOT = Path(__file__).resolve().parents[1]
NYT = ROOT.parent / "shared" / "data" / "nyt2020" / "battleground-state-changes.csv"
NO_NYT = (
    f"NYT 2020 feed not found at {NYT}; get battleground-state-changes.csv from "
    "https://github.com/alex/nyt-2020-election-scraper (never commit it into racecast)"
)


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location(
        "backtest_nyt2020", ROOT / "examples" / "backtest_nyt2020.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.skipif(not NYT.is_file(), reason=NO_NYT)
@pytest.mark.parametrize("state", ["Pennsylvania", "Arizona"])
def test_nyt_reader_gives_the_feeds_final_row_and_release_order(example, state):
    with NYT.open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["state"].startswith(state)]
    newest, oldest = rows[0], rows[-1]  # the feed is newest first
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        count = example.load_state(NYT, state)
    assert len(count) == len(rows)
    assert set(count.candidates) == {"Trump", "Biden"}
    assert count.batch_types == ("mixed",)
    assert count.totals[newest["leading_candidate_name"]] == int(newest["leading_candidate_votes"])
    assert count.totals[newest["trailing_candidate_name"]] == int(newest["trailing_candidate_votes"])
    assert count.votes[0].sum() == int(oldest["leading_candidate_votes"]) + int(
        oldest["trailing_candidate_votes"]
    )
    assert count.outstanding["mixed"].iloc[0] == max(int(oldest["votes_remaining"]), 0)
    assert count.released_at.is_monotonic_increasing


def test_without_nyt_data_the_example_says_where_to_get_it_and_scores_la(example, tmp_path, capsys):
    assert example.main([str(tmp_path / "absent.csv"), "--out", str(tmp_path / "docs")]) == 0
    err = capsys.readouterr().err
    assert "github.com/alex/nyt-2020-election-scraper" in err
    report = (tmp_path / "docs" / "backtest.md").read_text()
    assert "Los Angeles mayor 2022" in report
    assert "not found" in report
    for png in ("la_2022_replay.png", "la_2022_forecast.png"):
        assert (tmp_path / "docs" / png).stat().st_size > 10_000


@pytest.mark.slow
@pytest.mark.skipif(not NYT.is_file(), reason=NO_NYT)
def test_full_backtest_runs_and_reports_every_state(example, tmp_path):
    """The published record: the script, run on all seven counts, writes docs/backtest.md."""
    assert example.main([str(NYT), "--out", str(tmp_path)]) == 0
    report = (tmp_path / "backtest.md").read_text()
    for state in example.STATES:
        assert f"### {state}" in report
    assert "## Overall, six NYT 2020 states" in report
    # docs/backtest.md and its CSV are what the script produces, to the last digit
    assert report == (ROOT / "docs" / "backtest.md").read_text()
    assert (tmp_path / "backtest_results.csv").read_text() == (
        ROOT / "docs" / "backtest_results.csv"
    ).read_text()
