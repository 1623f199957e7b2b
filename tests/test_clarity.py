"""Clarity ENR feeds: votes in no vote type, one release per vote type, and every contest as a ballot.

The real fixture is the clarify project's Arkansas 2014 general election file
(tests/data/clarity/arkansas_2014_county.xml, MIT licence, see the README there).
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import racecast
from racecast.errors import CorrectionWarning, CountFormatError, FeedWarning
from racecast.io import read_clarity, read_clarity_ballot
from racecast.outstanding import resolve_outstanding

pytest.importorskip("clarify")

CLARITY = Path(__file__).resolve().parent / "data" / "clarity"
ARKANSAS = CLARITY / "arkansas_2014_county.xml"
FIXTURES = [CLARITY / f"detail_{k}.xml" for k in (1, 2, 3)]


def _snapshot(
    path: Path,
    timestamp: str,
    contests: dict[str, dict[str, dict[str, object]]],
    *,
    totals: dict[str, int] | None = None,
    vote_for: dict[str, int] | None = None,
    questions: tuple[str, ...] = (),
    ballots: int = 100,
) -> Path:
    """A county-level detail.xml; ``totals`` overrides a choice's totalVotes (by choice name)."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        "<ElectionResult>",
        f"<Timestamp>{timestamp}</Timestamp>",
        "<ElectionName>Test Election</ElectionName><ElectionDate>11/8/2022</ElectionDate><Region>XX</Region>",
        f'<VoterTurnout totalVoters="1000" ballotsCast="{ballots}" voterTurnout="10.00"><Precincts>',
        '<Precinct name="P1" totalVoters="1000" ballotsCast="10" voterTurnout="1.00" percentReporting="1" />',
        "</Precincts></VoterTurnout>",
    ]
    for k, (contest, choices) in enumerate(contests.items()):
        n = (vote_for or {}).get(contest, 1)
        q = "true" if contest in questions else "false"
        parts.append(
            f'<Contest key="{k}" text="{contest}" voteFor="{n}" isQuestion="{q}" precinctsReporting="1" '
            'precinctsReported="1">'
        )
        for i, (name, types) in enumerate(choices.items()):
            tv = (totals or {}).get(name, sum(v for v in types.values() if isinstance(v, int)))
            parts.append(f'<Choice key="{i}" text="{name}" party="P{i}" totalVotes="{tv}">')
            for t, v in types.items():
                parts.append(
                    f'<VoteType name="{t}" votes="{v}"><Precinct name="P1" votes="{v}" /></VoteType>'
                )
            parts.append("</Choice>")
        parts.append("</Contest>")
    parts.append("</ElectionResult>")
    path.write_text("\n".join(parts))
    return path


def _line(path: Path, text: str) -> int:
    """1-based line of the first line of ``path`` containing ``text``."""
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def _mayor(a_mail: int, a_ed: int, b_mail: int, b_ed: int) -> dict[str, dict[str, dict[str, object]]]:
    return {
        "Mayor": {
            "A": {"Absentee by Mail": a_mail, "Election Day": a_ed},
            "B": {"Absentee by Mail": b_mail, "Election Day": b_ed},
        }
    }


# ---------------------------------------------------------------------------
# The real Arkansas 2014 feed
# ---------------------------------------------------------------------------
def test_arkansas_votes_in_no_vote_type_are_kept_as_unspecified_with_a_warning():
    with pytest.warns(FeedWarning) as record:
        ballot = read_clarity_ballot(ARKANSAS)
    (w,) = record
    message = str(w.message)
    for part in (str(ARKANSAS), "'U.S. Senate'", "'Tom Cotton'", "477,734", "462,123", "unspecified 15,611"):
        assert part in message
    assert ballot.contests == ("U.S. Senate",)
    senate = ballot.contest("U.S. Senate")
    # the published totalVotes, nothing dropped
    assert senate.totals.to_dict() == {"Tom Cotton": 477734}
    assert ballot.totals.loc[("U.S. Senate", "Tom Cotton"), "party"] == "REP"


def test_arkansas_snapshot_is_one_release_per_vote_type_unspecified_last():
    with pytest.warns(FeedWarning):
        ballot = read_clarity_ballot(ARKANSAS)
    assert ballot.release_batch_types == (
        "election_day",
        "early_in_person",
        "mail",
        "provisional",
        "unspecified",
    )
    # Election Day 248,263; Early Vote 200,430; Absentee 13,319; Provisional 111; the rest 15,611
    np.testing.assert_array_equal(ballot.votes["U.S. Senate"][:, 0], [248263, 448693, 462012, 462123, 477734])
    assert (ballot.released_at == pd.Timestamp("2014-11-13T20:58:41Z")).all()  # 2:58:41 PM CST
    # ballotsCast only where the snapshot ends: its split by vote type is not published
    np.testing.assert_array_equal(ballot.ballots_counted, [np.nan] * 4 + [850615])
    assert ballot.name == "AR 2014 General Election"


def test_arkansas_one_choice_contest_is_uncontested_in_the_ballot_and_refused_as_a_count():
    with pytest.warns(FeedWarning):
        ballot = read_clarity_ballot(ARKANSAS)
    assert bool(ballot.rules.loc["U.S. Senate", "uncontested"])
    assert ballot.info.loc["U.S. Senate", "vote_for"] == 1
    with pytest.raises(CountFormatError, match="at least two candidates") as exc:
        read_clarity(ARKANSAS, contest="U.S. Senate")
    assert exc.value.source == str(ARKANSAS)


# ---------------------------------------------------------------------------
# Unspecified votes in read_clarity
# ---------------------------------------------------------------------------
def test_totals_above_their_vote_types_become_an_unspecified_release(tmp_path):
    p = _snapshot(tmp_path / "1.xml", "11/8/2022 8:00:00 PM EST", _mayor(10, 20, 5, 5), totals={"A": 40})
    with pytest.warns(FeedWarning, match=r"contest 'Mayor', choice 'A': totalVotes 40, vote types 30") as rec:
        c = read_clarity(p, contest="Mayor")
    assert str(p) in str(rec[0].message)
    assert c.totals.to_dict() == {"A": 40, "B": 10}
    assert c.release_batch_types == ("mail", "election_day", "unspecified")
    np.testing.assert_array_equal(c.votes, [[10, 5], [30, 10], [40, 10]])
    assert (
        c.text["note"].iloc[0].startswith("votes added by type: mail +15, election_day +25, unspecified +10")
    )


def test_unspecified_votes_across_snapshots_warn_once_naming_the_latest(tmp_path):
    a = _snapshot(tmp_path / "a.xml", "11/8/2022 8:00:00 PM EST", _mayor(10, 0, 5, 0), totals={"B": 8})
    b = _snapshot(tmp_path / "b.xml", "11/8/2022 9:00:00 PM EST", _mayor(10, 0, 5, 0), totals={"B": 12})
    with pytest.warns(FeedWarning) as record:
        c = read_clarity([a, b], contest="Mayor")
    assert len(record) == 1
    assert str(b) in str(record[0].message)
    assert "2 of 2 snapshots" in str(record[0].message)
    assert c.release_batch_types == ("mail", "unspecified", "unspecified")
    np.testing.assert_array_equal(c.votes[-1], [10, 12])


def test_a_file_without_unattributed_votes_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", FeedWarning)
        read_clarity(FIXTURES, contest="Mayor")


# ---------------------------------------------------------------------------
# One release per vote type
# ---------------------------------------------------------------------------
def test_each_snapshot_ends_at_its_published_totals_and_types_add_up(tmp_path):
    c = read_clarity(FIXTURES, contest="Mayor")
    ends = [
        i
        for i in range(len(c))
        if i == len(c) - 1 or c.text["source"].iloc[i + 1] != c.text["source"].iloc[i]
    ]
    np.testing.assert_array_equal(c.votes[ends], [[400, 270], [900, 920], [1050, 985]])
    added = np.diff(c.votes, axis=0, prepend=0).sum(axis=1)
    by_type = pd.Series(added).groupby(list(c.release_batch_types)).sum().to_dict()
    # the fixtures' vote types at the last snapshot, summed over both candidates
    assert by_type == {"mail": 610, "early_in_person": 220, "election_day": 1150, "provisional": 55}


def test_a_correction_in_a_split_snapshot_takes_the_type_before_it(tmp_path):
    first = _snapshot(tmp_path / "1.xml", "11/8/2022 8:00:00 PM EST", _mayor(10, 10, 5, 5))
    # mail goes down by 2 while election day adds 20: the correction is a release of its own
    second = _snapshot(tmp_path / "2.xml", "11/8/2022 9:00:00 PM EST", _mayor(8, 20, 5, 15))
    with pytest.warns(CorrectionWarning, match="row 3, column 'A'"):
        c = read_clarity([first, second], contest="Mayor")
    assert c.release_batch_types == ("mail", "election_day", "election_day", "election_day")
    np.testing.assert_array_equal(c.votes, [[10, 5], [20, 10], [18, 10], [28, 20]])
    assert c.corrections == [3]


def test_a_count_split_by_type_forecasts(tmp_path):
    c = read_clarity(FIXTURES, contest="Mayor")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        fc = racecast.forecast(c, remaining={"mail": 400, "provisional": 80}, seed=1, engine="fast")
    assert set(fc.win_probability.index) == {"Ann LEE", "Bob RAY"}
    assert fc.win_probability.sum() == pytest.approx(1.0)


# ---------------------------------------------------------------------------
# read_clarity_ballot
# ---------------------------------------------------------------------------
def test_ballot_has_every_contest_of_the_snapshots():
    ballot = racecast.read_clarity_ballot(FIXTURES)
    assert isinstance(ballot, racecast.Ballot)
    assert ballot.contests == ("Mayor", "Measure A")
    assert ballot.candidates == {"Mayor": ("Ann LEE", "Bob RAY"), "Measure A": ("Yes", "No")}
    assert ballot.parties["Mayor"] == ("DEM", "REP")
    # snapshot 1 added mail and early votes (Mayor) and election-day votes (Measure A) ...
    assert ballot.release_batch_types == (
        "mail",
        "early_in_person",
        "election_day",
        "election_day",
        "mail",
        "election_day",
        "provisional",
    )
    # ... and every contest's totals are those read_clarity reads for it alone
    for contest in ballot.contests:
        assert (
            ballot.contest(contest).totals.to_dict()
            == read_clarity(FIXTURES, contest=contest).totals.to_dict()
        )
    np.testing.assert_array_equal(ballot.ballots_counted, [np.nan, np.nan, 700, 2000, np.nan, np.nan, 2300])
    assert list(ballot.text["source"]) == [str(FIXTURES[k]) for k in (0, 0, 0, 1, 2, 2, 2)]
    assert len(ballot[:3]) == 3
    assert ballot[:3].contest("Measure A").totals.to_dict() == {"Yes": 350, "No": 250}


def test_ballot_rules_come_from_vote_for_and_questions(tmp_path):
    contests = {
        "Council": {"A": {"Election Day": 5}, "B": {"Election Day": 4}, "C": {"Election Day": 3}},
        "Measure B": {"Yes": {"Election Day": 6}, "No": {"Election Day": 4}},
        "Sheriff": {"X": {"Election Day": 7}, "Y": {"Election Day": 2}},
    }
    p = _snapshot(
        tmp_path / "1.xml",
        "11/8/2022 8:00:00 PM EST",
        contests,
        vote_for={"Council": 2},
        questions=("Measure B",),
    )
    ballot = read_clarity_ballot(p)
    assert ballot.rules["rule"].to_dict() == {
        "Council": "seats:2",
        "Measure B": "threshold:1/2",
        "Sheriff": "plurality",
    }
    assert ballot.info["type"].to_dict() == {
        "Council": "Candidate",
        "Measure B": "Measure",
        "Sheriff": "Candidate",
    }


def test_ballot_forecasts_every_contest():
    ballot = read_clarity_ballot(FIXTURES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        result = racecast.forecast_ballot(ballot, remaining={"mail": 400}, seed=1, engine="fast")
    assert set(result.contests.index) == {"Mayor", "Measure A"}


# ---------------------------------------------------------------------------
# Bad files: file, row (the XML element's line) and column
# ---------------------------------------------------------------------------
def test_votes_that_are_not_numbers_name_the_file_line_and_vote_type(tmp_path):
    contests = {"Mayor": {"A": {"Election Day": "n/a"}, "B": {"Election Day": 3}}}
    p = _snapshot(tmp_path / "1.xml", "11/8/2022 8:00:00 PM EST", contests, totals={"A": 3})
    for read in (lambda: read_clarity(p, contest="Mayor"), lambda: read_clarity_ballot(p)):
        with pytest.raises(CountFormatError, match="whole number, got 'n/a'") as exc:
            read()
        assert exc.value.source == str(p)
        assert exc.value.row == _line(p, 'text="A"')
        assert exc.value.column == "Mayor / A / Election Day"


def test_vote_types_above_the_total_name_the_choice_line(tmp_path):
    p = _snapshot(tmp_path / "1.xml", "11/8/2022 8:00:00 PM EST", _mayor(1, 2, 3, 4), totals={"B": 5})
    with pytest.raises(CountFormatError, match="totalVotes is 5 but its vote types add up to 7") as exc:
        read_clarity_ballot(p)
    assert (exc.value.source, exc.value.row, exc.value.column) == (str(p), _line(p, 'text="B"'), "Mayor / B")
    assert f"row {exc.value.row}" in str(exc.value)


def test_ballotscast_problem_names_its_element_line(tmp_path):
    p = _snapshot(tmp_path / "1.xml", "11/8/2022 8:00:00 PM EST", _mayor(1, 0, 1, 0), ballots=-5)
    with pytest.raises(CountFormatError, match="cannot be negative") as exc:
        read_clarity_ballot(p)
    assert (exc.value.source, exc.value.row, exc.value.column) == (
        str(p),
        _line(p, "<VoterTurnout"),
        "ballotsCast",
    )


def test_ballot_snapshots_must_list_the_same_contests(tmp_path):
    a = _snapshot(tmp_path / "a.xml", "11/8/2022 8:00:00 PM EST", _mayor(1, 0, 1, 0))
    more = _mayor(2, 0, 2, 0) | {"Clerk": {"C": {"Election Day": 1}, "D": {"Election Day": 1}}}
    b = _snapshot(tmp_path / "b.xml", "11/8/2022 9:00:00 PM EST", more)
    with pytest.raises(CountFormatError, match="has a contest 'Clerk'") as exc:
        read_clarity_ballot([a, b])
    assert (exc.value.source, exc.value.column) == (str(b), "Clerk")
    earlier = _snapshot(tmp_path / "c.xml", "11/8/2022 7:00:00 PM EST", more)
    with pytest.raises(CountFormatError, match="has no contest 'Clerk'") as exc:
        read_clarity_ballot([earlier, a])
    assert exc.value.source == str(a)


def test_ballot_snapshots_must_list_the_same_choices(tmp_path):
    a = _snapshot(tmp_path / "a.xml", "11/8/2022 8:00:00 PM EST", _mayor(1, 0, 1, 0))
    b = _snapshot(tmp_path / "b.xml", "11/8/2022 9:00:00 PM EST", {"Mayor": {"A": {"Election Day": 5}}})
    with pytest.raises(CountFormatError, match="same candidates") as exc:
        read_clarity_ballot([a, b])
    assert exc.value.source == str(b)


def test_ballot_needs_unique_contest_names_and_a_snapshot(tmp_path):
    text = _snapshot(tmp_path / "a.xml", "11/8/2022 8:00:00 PM EST", _mayor(1, 0, 1, 0)).read_text()
    head, contest = text.split("<Contest", 1)
    contest = "<Contest" + contest.removesuffix("</ElectionResult>")
    p = tmp_path / "twice.xml"
    p.write_text(head + contest + "\n" + contest + "</ElectionResult>")
    with pytest.raises(CountFormatError, match="'Mayor' appears 2 times") as exc:
        read_clarity_ballot(p)
    assert (exc.value.source, exc.value.column) == (str(p), "Mayor")
    with pytest.raises(CountFormatError, match=r"at least one detail\.xml"):
        read_clarity_ballot([])


def test_a_ballot_with_nothing_published_is_forecast_from_a_projection_of_its_ballots():
    """Clarity publishes nothing of what is outstanding: a projection of the final ballots stands in."""
    ballot = read_clarity_ballot(FIXTURES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        bare = racecast.forecast_ballot(ballot, seed=1, engine="fast", progress=False, processes=1)
        projected = racecast.forecast_ballot(
            ballot.with_expected_total(2800), seed=1, engine="fast", progress=False, processes=1
        )
    assert (bare.contests["status"] == "error").all()  # nothing says what is left: refused, not guessed
    assert bare.contests["message"].str.contains("expected_total").all()
    assert not (projected.contests["status"] == "error").any()
    mayor = resolve_outstanding(ballot.with_expected_total(2800).contest("Mayor"))
    assert mayor.table["source"].str.startswith("projected: expected total 2,800").all()
    assert mayor.projected == {"provisional": (2800.0, 2300.0)}  # the last ballotsCast: 2,300
    assert np.isnan(ballot.expected_total).all()  # the ballot itself is unchanged
    no_ballots = dataclasses.replace(ballot, ballots_counted=np.full(len(ballot.release_ids), np.nan))
    with pytest.raises(ValueError, match="ballots_counted"):
        no_ballots.with_expected_total(2800)
