"""Feed readers: NYT 2020 results feed, Clarity ENR detail.xml snapshots, and tidy tables.

Every reader must give the same validated :class:`racecast.Count` and name the
file, row and column of a bad input.
"""

from __future__ import annotations

import csv
import itertools
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import racecast
from racecast.errors import CorrectionWarning, CountFormatError, FeedWarning
from racecast.io import CLARITY_VOTE_TYPES, read_clarity, read_nyt2020

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
NYT_DIR = REPO.parent / "shared" / "data" / "nyt2020"
NYT_FILE = NYT_DIR / "battleground-state-changes.csv"
CLARITY = HERE / "data" / "clarity"

needs_nyt = pytest.mark.skipif(
    not NYT_FILE.is_file(),
    reason=(
        f"NYT 2020 feed not found at {NYT_FILE}: put battleground-state-changes.csv (the community scrape of "
        "the New York Times' 2020 results feed, MIT licence) in ../shared/data/nyt2020 next to the repository"
    ),
)

NYT_HEADER = (
    "state,timestamp,leading_candidate_name,trailing_candidate_name,leading_candidate_votes,"
    "trailing_candidate_votes,vote_differential,votes_remaining,new_votes"
)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        return fn(*args, **kwargs)


def _state_rows(state_label: str) -> list[dict[str, str]]:
    """The state's rows straight from the file with the csv module, oldest first."""
    with NYT_FILE.open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["state"] == state_label]
    return rows[::-1]


# ---------------------------------------------------------------------------
# NYT 2020 feed, real file
# ---------------------------------------------------------------------------
@needs_nyt
def test_nyt_georgia_is_every_update_in_release_order():
    rows = _state_rows("Georgia (EV: 16)")
    ga = _quiet(read_nyt2020, NYT_FILE, state="Georgia")
    assert len(ga) == len(rows)
    assert list(ga.release_ids) == list(range(1, len(rows) + 1))
    times = pd.to_datetime([r["timestamp"] for r in rows]).tz_localize("UTC")
    assert (ga.released_at.to_numpy() == times.to_numpy()).all()
    assert ga.released_at.is_monotonic_increasing
    assert str(ga.released_at.dt.tz) == "UTC"
    assert ga.name == "battleground-state-changes.csv [Georgia (EV: 16)]"  # the file's name, not its path


@needs_nyt
def test_nyt_votes_follow_the_names_when_the_leader_changes():
    rows = _state_rows("Georgia (EV: 16)")
    ga = _quiet(read_nyt2020, NYT_FILE, state="Georgia")
    assert set(ga.candidates) == {"Biden", "Trump"}
    assert ga.candidates[0] == rows[0]["leading_candidate_name"]
    leaders = {r["leading_candidate_name"] for r in rows}
    assert leaders == {"Biden", "Trump"}, "Georgia's lead changed hands: the test relies on it"
    for i, r in enumerate(rows):
        j_lead = ga.candidates.index(r["leading_candidate_name"])
        j_trail = ga.candidates.index(r["trailing_candidate_name"])
        assert ga.votes[i, j_lead] == int(r["leading_candidate_votes"])
        assert ga.votes[i, j_trail] == int(r["trailing_candidate_votes"])


@needs_nyt
def test_nyt_updates_that_add_no_votes_are_kept_as_releases():
    rows = _state_rows("Pennsylvania (EV: 20)")
    pa = _quiet(read_nyt2020, NYT_FILE, state="pennsylvania")
    totals = [int(r["leading_candidate_votes"]) + int(r["trailing_candidate_votes"]) for r in rows]
    unchanged = sum(1 for a, b in itertools.pairwise(totals) if a == b)
    assert unchanged > 0
    assert len(pa) == len(rows)
    assert int((pa.increments.abs().sum(axis=1) == 0).sum()) == unchanged


@needs_nyt
def test_nyt_outstanding_is_the_times_votes_remaining_in_votes_with_one_mixed_type():
    rows = _state_rows("Arizona (EV: 11)")
    with pytest.warns(FeedWarning, match="votes_remaining"):
        az = read_nyt2020(NYT_FILE, state="Arizona (EV: 11)")
    assert az.batch_types == ("mixed",)
    assert set(az.release_batch_types) == {"mixed"}
    assert az.outstanding_unit == "votes"
    published = np.array([int(r["votes_remaining"]) for r in rows])
    assert (published < 0).any(), (
        "Arizona's last update has a negative votes_remaining: the test relies on it"
    )
    np.testing.assert_array_equal(az.outstanding["mixed"].to_numpy(), np.maximum(published, 0))
    negative = np.flatnonzero(published < 0)
    for i in negative:
        assert str(published[i]) in az.text["note"].iloc[i]
    assert (az.text["note"].iloc[np.flatnonzero(published >= 0)] == "").all()


@needs_nyt
def test_nyt_source_column_points_back_to_the_feed_line():
    nv = _quiet(read_nyt2020, NYT_FILE, state="Nevada")
    with NYT_FILE.open(newline="") as f:
        lines = f.read().splitlines()
    name, line = nv.text["source"].iloc[0].rsplit(":", 1)
    assert name == NYT_FILE.name
    assert lines[int(line) - 1].startswith("Nevada")
    assert lines[int(line) - 1].split(",")[1] == _state_rows("Nevada (EV: 6)")[0]["timestamp"]


@needs_nyt
def test_nyt_unknown_state_lists_the_states_and_suggests_one():
    with pytest.raises(CountFormatError, match=r"did you mean 'Georgia'\?") as exc:
        read_nyt2020(NYT_FILE, state="Gorgia")
    assert "Pennsylvania" in str(exc.value)
    assert exc.value.column == "state"


@needs_nyt
def test_nyt_corrections_in_the_feed_are_kept_and_announced():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeedWarning)
        with pytest.warns(CorrectionWarning):
            ga = read_nyt2020(NYT_FILE, state="Georgia")
    assert ga.corrections, "the Georgia feed has updates that lower a candidate's votes"


# ---------------------------------------------------------------------------
# NYT 2020 feed, small files written here
# ---------------------------------------------------------------------------
def _nyt(tmp_path: Path, *rows: str) -> Path:
    p = tmp_path / "feed.csv"
    p.write_text("\n".join([NYT_HEADER, *rows]) + "\n")
    return p


def test_nyt_small_feed_is_reversed_and_follows_a_lead_change(tmp_path):
    p = _nyt(
        tmp_path,
        "Oz (EV: 3),2020-11-05 10:00:00.000000,B,A,160,150,10,0,60",
        "Oz (EV: 3),2020-11-04 18:00:00.000000,A,B,110,100,10,40,0",
        "Oz (EV: 3),2020-11-04 12:00:00.000000,A,B,110,100,10,50,210",
        "Elsewhere (EV: 9),2020-11-04 12:00:00.000000,X,Y,5,4,1,9,9",
    )
    c = read_nyt2020(p, state="oz")
    assert c.candidates == ("A", "B")
    np.testing.assert_array_equal(c.votes, [[110, 100], [110, 100], [150, 160]])
    np.testing.assert_array_equal(c.outstanding["mixed"], [50, 40, 0])
    assert list(c.text["source"]) == ["feed.csv:4", "feed.csv:3", "feed.csv:2"]
    assert c.released_at.iloc[0] == pd.Timestamp("2020-11-04T12:00:00Z")
    assert c.batches()["last"].tolist() == [0, 2], "the update that adds nothing yields no batch"


@st.composite
def _feeds(draw):
    """A two-candidate feed: non-decreasing cumulative votes, any votes_remaining, oldest first."""
    n = draw(st.integers(1, 12))
    a = b = 0
    rows = []
    for i in range(n):
        a += draw(st.integers(0, 5000))
        b += draw(st.integers(0, 5000))
        remaining = draw(st.integers(-500, 100_000))
        rows.append((f"2020-11-{4 + i // 3:02d} {10 + i % 3}:00:00", a, b, remaining))
    return rows


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(feed=_feeds())
def test_nyt_any_feed_reads_back_votes_and_outstanding_as_published(tmp_path, feed):
    lines = []
    for ts, a, b, rem in reversed(feed):  # the file is newest first
        names, votes = (("X", "Y"), (a, b)) if a >= b else (("Y", "X"), (b, a))
        lines.append(f"Oz (EV: 3),{ts},{names[0]},{names[1]},{votes[0]},{votes[1]},0,{rem},0")
    p = _nyt(tmp_path, *lines)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeedWarning)
        c = read_nyt2020(p, state="Oz")
    assert len(c) == len(feed)
    by_name = dict(zip(c.candidates, c.votes.T, strict=True))
    np.testing.assert_array_equal(by_name["X"], [a for _, a, _, _ in feed])
    np.testing.assert_array_equal(by_name["Y"], [b for _, _, b, _ in feed])
    np.testing.assert_array_equal(c.outstanding["mixed"], [max(r, 0) for *_, r in feed])
    assert c.batch_types == ("mixed",)


def test_nyt_negative_votes_remaining_reads_as_zero_with_a_warning_naming_the_row(tmp_path):
    p = _nyt(
        tmp_path,
        "Oz (EV: 3),2020-11-05 10:00:00,A,B,120,100,20,-7,10",
        "Oz (EV: 3),2020-11-04 12:00:00,A,B,110,100,10,5,210",
    )
    with pytest.warns(FeedWarning, match=r"row 2, column 'votes_remaining': -7"):
        c = read_nyt2020(p, state="Oz")
    assert c.outstanding["mixed"].tolist() == [5.0, 0.0]
    assert "-7" in c.text["note"].iloc[1]


@pytest.mark.parametrize(
    ("row", "line", "column", "match"),
    [
        ("Oz (EV: 3),2020-11-05 10:00:00,A,B,12O,100,20,5,10", 2, "leading_candidate_votes", "whole number"),
        ("Oz (EV: 3),2020-11-05 10:00:00,A,B,120,-1,20,5,10", 2, "trailing_candidate_votes", "negative"),
        ("Oz (EV: 3),2020-11-05 10:00:00,A,B,120,100,20,lots,10", 2, "votes_remaining", "whole number"),
        ("Oz (EV: 3),yesterday,A,B,120,100,20,5,10", 2, "timestamp", "date and time"),
        (
            "Oz (EV: 3),2020-11-05 10:00:00,A,C,120,100,20,5,10",
            2,
            "trailing_candidate_name",
            "third candidate",
        ),
        (
            "Oz (EV: 3),2020-11-05 10:00:00,C,A,120,100,20,5,10",
            2,
            "leading_candidate_name",
            "third candidate",
        ),
        ("Oz (EV: 3),2020-11-05 10:00:00,A,A,120,100,20,5,10", 2, "trailing_candidate_name", "both 'A'"),
        ("Oz (EV: 3),2020-11-05 10:00:00,,B,120,100,20,5,10", 2, "leading_candidate_name", "blank"),
        ("Oz (EV: 3),2020-11-03 10:00:00,A,B,120,100,20,5,10", 3, "timestamp", "newest first"),
    ],
)
def test_nyt_bad_cells_are_named_by_line_and_column(tmp_path, row, line, column, match):
    # newest first: the row under test is line 2, an older good row is line 3
    p = _nyt(tmp_path, row, "Oz (EV: 3),2020-11-04 12:00:00,A,B,110,100,10,5,210")
    with pytest.raises(CountFormatError, match=match) as exc:
        read_nyt2020(p, state="Oz")
    assert exc.value.source == str(p)
    assert (exc.value.row, exc.value.column) == (line, column)


def test_nyt_missing_column_is_named(tmp_path):
    p = tmp_path / "feed.csv"
    p.write_text("state,timestamp,leading_candidate_name\nOz,2020-11-04 12:00:00,A\n")
    with pytest.raises(CountFormatError, match="missing column") as exc:
        read_nyt2020(p, state="Oz")
    assert exc.value.column == "trailing_candidate_name"


def test_nyt_missing_file_is_a_count_format_error(tmp_path):
    with pytest.raises(CountFormatError, match="file not found"):
        read_nyt2020(tmp_path / "nope.csv", state="Oz")


# ---------------------------------------------------------------------------
# Clarity ENR detail.xml, fixtures in tests/data/clarity
# ---------------------------------------------------------------------------
FIXTURES = [CLARITY / f"detail_{k}.xml" for k in (1, 2, 3)]


def test_clarity_snapshots_become_releases_in_timestamp_order():
    pytest.importorskip("clarify")
    c = read_clarity([FIXTURES[2], FIXTURES[0], FIXTURES[1]], contest="Mayor")
    assert c.candidates == ("Ann LEE", "Bob RAY")
    # totals from the fixtures' totalVotes, in time order, at the last release of each snapshot
    np.testing.assert_array_equal(c.votes[[1, 2, 4]], [[400, 270], [900, 920], [1050, 985]])
    # snapshots 1 and 3 added two vote types each: one release per type
    np.testing.assert_array_equal(c.votes, [[300, 150], [400, 270], [900, 920], [1020, 960], [1050, 985]])
    assert list(c.text["source"]) == [str(FIXTURES[k]) for k in (0, 0, 1, 2, 2)]
    # 8:05:12 PM EST on Nov 8 is 01:05:12 UTC on Nov 9
    assert c.released_at.iloc[0] == pd.Timestamp("2022-11-09T01:05:12Z")
    assert c.released_at.iloc[1] == pd.Timestamp("2022-11-09T01:05:12Z")
    assert c.released_at.iloc[4] == pd.Timestamp("2022-11-10T22:00:00Z")


def test_clarity_each_vote_type_a_snapshot_added_is_its_own_release():
    pytest.importorskip("clarify")
    c = read_clarity(FIXTURES, contest="Mayor")
    # 1: mail 300+150 and advance in person 100+120; 2: election day 500+650;
    # 3: mail 120+40 and provisional 30+25; in the order the file lists its vote types
    assert c.release_batch_types == ("mail", "early_in_person", "election_day", "mail", "provisional")
    assert c.text["note"].iloc[4] == (
        "votes added by type: mail +160, provisional +55 (release 2 of 2 of this snapshot: provisional)"
    )
    assert c.text["note"].iloc[2] == "votes added by type: election_day +1,150"


def test_clarity_ballots_cast_is_ballots_counted_unless_turned_off():
    pytest.importorskip("clarify")
    c = read_clarity(FIXTURES, contest="Mayor")
    # ballotsCast is on the last release of each snapshot: its split by type is not published
    np.testing.assert_array_equal(c.ballots_counted, [np.nan, 700, 2000, np.nan, 2300])
    assert c.outstanding_unit == "ballots"
    c2 = read_clarity(FIXTURES, contest="Mayor", ballots_counted=False)
    assert not c2.has_ballots
    np.testing.assert_array_equal(c2.votes, c.votes)


def test_clarity_type_map_overrides_the_default_and_merges_types():
    pytest.importorskip("clarify")
    assert CLARITY_VOTE_TYPES["Absentee by Mail"] == "mail"
    c = read_clarity(
        FIXTURES, contest="Mayor", type_map={"absentee BY mail": "by_mail", "Advance in Person": "by_mail"}
    )
    assert c.release_batch_types == ("by_mail", "election_day", "by_mail", "provisional")
    assert c.text["note"].iloc[0] == "votes added by type: by_mail +670"


def test_clarity_type_map_that_merges_two_types_merges_their_releases(tmp_path):
    pytest.importorskip("clarify")
    types = {"Absentee by Mail": 10, "Early Vote": 8, "Election Day": 5}
    p = _clarity_xml(tmp_path / "a.xml", "11/8/2022 9:00:00 PM EST", {"A": types, "B": types})
    # mail 20, early in person 16 and election day 10: one release each ...
    assert read_clarity(p, contest="Mayor").release_batch_types == ("mail", "early_in_person", "election_day")
    # ... and early in person and election day together are one release of 26
    merged = read_clarity(
        p, contest="Mayor", type_map={"Early Vote": "in_person", "Election Day": "in_person"}
    )
    assert merged.release_batch_types == ("mail", "in_person")
    np.testing.assert_array_equal(merged.votes, [[10, 10], [23, 23]])


def test_clarity_unmapped_vote_types_use_their_snake_case_name(tmp_path):
    pytest.importorskip("clarify")
    p = _clarity_xml(
        tmp_path / "a.xml",
        "11/8/2022 9:00:00 PM CST",
        {"A": {"Mail-In Ballots": 5}, "B": {"Mail-In Ballots": 3}},
    )
    assert read_clarity(p, contest="Mayor").release_batch_types == ("mail_in_ballots",)


def test_clarity_other_contests_and_questions_can_be_read():
    pytest.importorskip("clarify")
    c = read_clarity(FIXTURES, contest="Measure A")
    assert c.candidates == ("Yes", "No")
    np.testing.assert_array_equal(c.votes[:, 0], [350, 1300, 1450])


def test_clarity_reads_a_zipped_detail_xml(tmp_path):
    pytest.importorskip("clarify")
    z = tmp_path / "detailxml.zip"
    with zipfile.ZipFile(z, "w") as archive:
        archive.write(FIXTURES[1], "detail.xml")
    c = read_clarity([FIXTURES[0], z], contest="Mayor")
    np.testing.assert_array_equal(c.votes[-1], [900, 920])
    assert c.text["source"].iloc[-1] == str(z)


# ---------------------------------------------------------------------------
# Clarity: edge cases on snapshots written here
# ---------------------------------------------------------------------------
def _clarity_xml(
    path: Path, timestamp: str, choices: dict[str, dict[str, int]], *, total=None, ballots=100
) -> Path:
    """A minimal county-level detail.xml with one contest ``Mayor``."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        "<ElectionResult>",
        f"<Timestamp>{timestamp}</Timestamp>",
        "<ElectionName>Test</ElectionName><ElectionDate>11/8/2022</ElectionDate><Region>Test</Region>",
        f'<VoterTurnout totalVoters="1000" ballotsCast="{ballots}" voterTurnout="10.00"><Precincts>',
        '<Precinct name="P1" totalVoters="1000" ballotsCast="10" voterTurnout="1.00" percentReporting="1" />',
        "</Precincts></VoterTurnout>",
        (
            '<Contest key="1" text="Mayor" voteFor="1" isQuestion="false" precinctsReporting="1" '
            'precinctsReported="1">'
        ),
    ]
    for i, (name, types) in enumerate(choices.items()):
        tv = sum(v for v in types.values() if isinstance(v, int)) if total is None else total
        parts.append(f'<Choice key="{i}" text="{name}" totalVotes="{tv}">')
        for t, v in types.items():
            parts.append(f'<VoteType name="{t}" votes="{v}"><Precinct name="P1" votes="{v}" /></VoteType>')
        parts.append("</Choice>")
    parts += ["</Contest>", "</ElectionResult>"]
    path.write_text("\n".join(parts))
    return path


def _two(a_mail: int, a_ed: int, b_mail: int, b_ed: int) -> dict[str, dict[str, int]]:
    return {
        "A": {"Absentee by Mail": a_mail, "Election Day": a_ed},
        "B": {"Absentee by Mail": b_mail, "Election Day": b_ed},
    }


def test_clarity_a_release_that_adds_nothing_takes_the_type_before_it_and_a_zero_report_the_type_after(
    tmp_path,
):
    pytest.importorskip("clarify")
    files = [
        _clarity_xml(tmp_path / "0.xml", "11/8/2022 7:00:00 PM EST", _two(0, 0, 0, 0)),
        _clarity_xml(tmp_path / "1.xml", "11/8/2022 8:00:00 PM EST", _two(10, 0, 5, 0)),
        _clarity_xml(tmp_path / "2.xml", "11/8/2022 9:00:00 PM EST", _two(10, 0, 5, 0)),
        _clarity_xml(tmp_path / "3.xml", "11/8/2022 10:00:00 PM EST", _two(10, 30, 5, 40)),
    ]
    c = read_clarity(files, contest="Mayor")
    assert c.release_batch_types == ("mail", "mail", "mail", "election_day")
    assert c.text["note"].iloc[2] == "votes added by type: none"
    assert len(c) == 4


def test_clarity_a_correction_is_kept_and_takes_the_type_before_it(tmp_path):
    pytest.importorskip("clarify")
    files = [
        _clarity_xml(tmp_path / "1.xml", "11/8/2022 8:00:00 PM EST", _two(10, 0, 5, 0)),
        _clarity_xml(tmp_path / "2.xml", "11/8/2022 9:00:00 PM EST", _two(10, 30, 5, 40)),
        _clarity_xml(tmp_path / "3.xml", "11/8/2022 10:00:00 PM EST", _two(8, 30, 5, 40)),
    ]
    with pytest.warns(CorrectionWarning, match=r"row 3, column 'A'"):
        c = read_clarity(files, contest="Mayor")
    assert c.release_batch_types == ("mail", "election_day", "election_day")
    assert c.corrections == [3]


def test_clarity_types_of_one_snapshot_come_in_the_order_the_file_lists_them(tmp_path):
    pytest.importorskip("clarify")
    p = _clarity_xml(tmp_path / "1.xml", "11/8/2022 8:00:00 PM EST", _two(10, 10, 5, 5))
    assert read_clarity(p, contest="Mayor").release_batch_types == ("mail", "election_day")


def test_clarity_same_timestamp_keeps_the_order_given(tmp_path):
    pytest.importorskip("clarify")
    a = _clarity_xml(tmp_path / "a.xml", "11/8/2022 8:00:00 PM EST", _two(10, 0, 5, 0))
    b = _clarity_xml(tmp_path / "b.xml", "11/8/2022 8:00:00 PM EST", _two(10, 5, 5, 5))
    c = read_clarity([a, b], contest="Mayor")
    assert list(c.text["source"]) == [str(a), str(b)]


@pytest.mark.parametrize(
    ("timestamp", "utc"),
    [
        ("11/8/2022 8:00:00 PM PST", "2022-11-09T04:00:00Z"),
        ("11/8/2022 8:00:00 PM CDT", "2022-11-09T01:00:00Z"),
        ("11/8/2022 8:00:00 PM -0500", "2022-11-09T01:00:00Z"),
    ],
)
def test_clarity_timestamps_with_a_zone_are_read_as_utc(tmp_path, timestamp, utc):
    pytest.importorskip("clarify")
    p = _clarity_xml(tmp_path / "1.xml", timestamp, _two(1, 0, 1, 0))
    assert read_clarity(p, contest="Mayor").released_at.iloc[0] == pd.Timestamp(utc)


def test_clarity_timestamp_without_a_zone_is_an_error(tmp_path):
    pytest.importorskip("clarify")
    p = _clarity_xml(tmp_path / "1.xml", "11/8/2022 8:00:00 PM", _two(1, 0, 1, 0))
    with pytest.raises(CountFormatError, match="no time zone") as exc:
        read_clarity(p, contest="Mayor")
    assert (exc.value.source, exc.value.column) == (str(p), "Timestamp")


def test_clarity_unknown_contest_suggests_the_close_one():
    pytest.importorskip("clarify")
    with pytest.raises(CountFormatError, match=r"no contest 'mayor'; did you mean \['Mayor'\]") as exc:
        read_clarity(FIXTURES[0], contest="mayor")
    assert exc.value.source == str(FIXTURES[0])


def test_clarity_total_below_its_vote_types_names_the_choice(tmp_path):
    pytest.importorskip("clarify")
    p = _clarity_xml(tmp_path / "1.xml", "11/8/2022 8:00:00 PM EST", _two(1, 2, 3, 4), total=2)
    with pytest.raises(CountFormatError, match="totalVotes is 2 but its vote types add up to 3") as exc:
        read_clarity(p, contest="Mayor")
    assert exc.value.column == "Mayor / A"


def test_clarity_votes_that_are_not_numbers_name_the_vote_type(tmp_path):
    pytest.importorskip("clarify")
    choices = {"A": {"Election Day": "n/a"}, "B": {"Election Day": 3}}
    p = _clarity_xml(tmp_path / "1.xml", "11/8/2022 8:00:00 PM EST", choices, total=3)  # type: ignore[arg-type]
    with pytest.raises(CountFormatError, match="whole number, got 'n/a'") as exc:
        read_clarity(p, contest="Mayor")
    assert exc.value.column == "Mayor / A / Election Day"


def test_clarity_snapshots_must_list_the_same_candidates(tmp_path):
    pytest.importorskip("clarify")
    a = _clarity_xml(tmp_path / "a.xml", "11/8/2022 8:00:00 PM EST", _two(1, 0, 1, 0))
    b = _clarity_xml(
        tmp_path / "b.xml", "11/8/2022 9:00:00 PM EST", {"A": {"Election Day": 5}, "C": {"Election Day": 5}}
    )
    with pytest.raises(CountFormatError, match="same candidates") as exc:
        read_clarity([a, b], contest="Mayor")
    assert exc.value.source == str(b)


def test_clarity_problems_found_by_count_validation_name_the_snapshot_file(tmp_path):
    pytest.importorskip("clarify")
    a = _clarity_xml(tmp_path / "a.xml", "11/8/2022 8:00:00 PM EST", _two(1, 0, 1, 0), ballots=-5)
    with pytest.raises(CountFormatError, match="cannot be negative") as exc:
        read_clarity([a], contest="Mayor")
    assert exc.value.source == str(a)
    assert exc.value.column == "ballotsCast"


def test_clarity_file_that_is_not_clarity_xml_is_named(tmp_path):
    pytest.importorskip("clarify")
    bad = tmp_path / "x.xml"
    bad.write_text("<html><body>Access denied</body></html>")
    with pytest.raises(CountFormatError, match=r"not a Clarity detail\.xml") as exc:
        read_clarity(bad, contest="Mayor")
    assert exc.value.source == str(bad)
    broken = tmp_path / "y.xml"
    broken.write_text("<ElectionResult><Timestamp>")
    with pytest.raises(CountFormatError, match="not a readable XML file"):
        read_clarity(broken, contest="Mayor")


def test_clarity_bad_type_map_label_is_a_count_format_error():
    pytest.importorskip("clarify")
    with pytest.raises(CountFormatError, match="snake_case"):
        read_clarity(FIXTURES, contest="Mayor", type_map={"Election Day": "Election Day"})


def test_clarity_without_clarify_installed_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "clarify", None)
    with pytest.raises(ImportError, match=r"racecast\[clarity\]"):
        read_clarity(FIXTURES, contest="Mayor")


# ---------------------------------------------------------------------------
# Count.from_frame
# ---------------------------------------------------------------------------
def _tidy(count: racecast.Count) -> pd.DataFrame:
    rel = count.releases.reset_index()
    long = rel.melt(
        id_vars=["release", "batch_type", "released_at"],
        value_vars=list(count.candidates),
        var_name="candidate",
        value_name="votes",
    )
    return long.sort_values(["release", "candidate"], kind="stable").reset_index(drop=True)


def test_from_frame_rebuilds_the_la_count_from_its_tidy_table():
    la = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    tidy = _tidy(la)
    assert len(tidy) == len(la) * la.n_candidates
    back = racecast.Count.from_frame(tidy, outstanding=la.outstanding.set_axis(la.release_ids))
    assert sorted(back.candidates) == sorted(la.candidates)
    order = [back.candidates.index(c) for c in la.candidates]
    np.testing.assert_array_equal(back.votes[:, order], la.votes)
    assert back.release_batch_types == la.release_batch_types
    np.testing.assert_array_equal(back.release_ids, la.release_ids)
    assert (back.released_at == la.released_at).all()
    pd.testing.assert_frame_equal(back.outstanding, la.outstanding)


def test_from_frame_with_other_column_names_and_a_mapping_of_outstanding():
    tidy = pd.DataFrame(
        {
            "update": [1, 1, 2, 2],
            "kind": ["early_mail", "early_mail", "late_mail", "late_mail"],
            "who": ["A", "B", "A", "B"],
            "n": [60, 40, 110, 90],
        }
    )
    c = racecast.Count.from_frame(
        tidy, release="update", batch_type="kind", candidate="who", votes="n", outstanding={"late_mail": 100}
    )
    assert c.candidates == ("A", "B")
    np.testing.assert_array_equal(c.votes, [[60, 40], [110, 90]])
    assert c.latest_outstanding() == {"late_mail": (100.0, 2)}
    assert np.isnan(c.outstanding["late_mail"].iloc[0])


def test_from_frame_missing_column_is_named():
    with pytest.raises(CountFormatError, match="missing column") as exc:
        racecast.Count.from_frame(pd.DataFrame({"release": [1], "candidate": ["A"], "votes": [1]}))
    assert exc.value.column == "batch_type"


def test_from_frame_duplicate_release_candidate_is_an_error():
    tidy = pd.DataFrame(
        {"release": [1, 1], "batch_type": ["m", "m"], "candidate": ["A", "A"], "votes": [1, 2]}
    )
    with pytest.raises(CountFormatError, match="appears twice"):
        racecast.Count.from_frame(tidy)


def test_from_frame_missing_votes_for_a_candidate_is_an_error_naming_the_candidate():
    tidy = pd.DataFrame(
        {"release": [1, 1, 2], "batch_type": ["m"] * 3, "candidate": ["A", "B", "A"], "votes": [1, 2, 3]}
    )
    with pytest.raises(CountFormatError, match="no row for candidate 'B'") as exc:
        racecast.Count.from_frame(tidy)
    assert exc.value.column == "candidate"


def test_from_frame_fractional_votes_are_an_error():
    tidy = pd.DataFrame(
        {"release": [1, 1], "batch_type": ["m"] * 2, "candidate": ["A", "B"], "votes": [1.5, 2]}
    )
    with pytest.raises(CountFormatError, match="whole number"):
        racecast.Count.from_frame(tidy)


def test_from_frame_naive_timestamps_are_an_error():
    tidy = pd.DataFrame(
        {
            "release": [1, 1],
            "batch_type": ["m"] * 2,
            "candidate": ["A", "B"],
            "votes": [1, 2],
            "released_at": pd.to_datetime(["2022-11-08 20:00"] * 2),
        }
    )
    with pytest.raises(CountFormatError, match="UTC offset"):
        racecast.Count.from_frame(tidy)


def test_from_frame_conflicting_batch_types_within_a_release_are_an_error():
    tidy = pd.DataFrame(
        {
            "release": [1, 1],
            "batch_type": ["early_mail", "late_mail"],
            "candidate": ["A", "B"],
            "votes": [1, 2],
        }
    )
    with pytest.raises(CountFormatError, match="batch_type"):
        racecast.Count.from_frame(tidy)


def test_from_frame_outstanding_table_is_matched_to_releases_never_dropped():
    tidy = pd.DataFrame(
        {"release": [1, 1], "batch_type": ["m"] * 2, "candidate": ["A", "B"], "votes": [1, 2]}
    )
    as_text = racecast.Count.from_frame(tidy, outstanding=pd.DataFrame({"late_mail": [100]}, index=["1"]))
    assert as_text.latest_outstanding() == {"late_mail": (100.0, 1)}  # "1" is release 1, not dropped
    with pytest.raises(CountFormatError, match="not a release"):
        racecast.Count.from_frame(tidy, outstanding=pd.DataFrame({"late_mail": [100]}, index=[7]))


def test_from_frame_errors_name_the_row_of_the_frame():
    tidy = pd.DataFrame(
        {
            "release": [1, 1, 2, 2],
            "batch_type": ["m"] * 4,
            "candidate": ["A", "B"] * 2,
            "votes": [1, 2, 3, 4.5],
        }
    )
    with pytest.raises(CountFormatError) as exc:
        racecast.Count.from_frame(tidy)
    assert exc.value.row == 5  # frame index 3, counted like a CSV file with a header on row 1
