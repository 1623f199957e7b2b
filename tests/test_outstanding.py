"""The one outstanding rule: latest reported estimate, overrides, ballots to votes."""

from __future__ import annotations

import pytest

import racecast
from racecast import baselines
from racecast.outstanding import resolve_outstanding, votes_per_ballot

from .conftest import csv_count

BALLOTS = (
    "batch_type,Ann,Bob,ballots_counted,outstanding_late_mail,outstanding_provisional\n"
    "early_mail,600,400,1200,5000,\n"
    "vote_center,900,1100,3700,3000,200\n"
)


def test_the_latest_estimate_is_used_and_an_override_replaces_it():
    count = csv_count(BALLOTS)
    out = resolve_outstanding(count)
    assert out.amounts == {"late_mail": 3000.0, "provisional": 200.0}
    assert list(out.table["source"]) == ["reported at release 2", "reported at release 2"]
    over = resolve_outstanding(count, {"late_mail": 1000})
    assert over.amounts == {"late_mail": 1000.0, "provisional": 200.0}
    assert over.table.loc["late_mail", "source"] == "override"


def test_ballots_become_contest_votes_at_the_counted_ratio():
    count = csv_count(BALLOTS)
    ratio = (900 + 1100) / 3700
    assert votes_per_ballot(count) == pytest.approx(ratio)
    assert resolve_outstanding(count).total_votes == pytest.approx(3200 * ratio)


def test_the_baselines_and_the_model_read_the_same_outstanding_votes():
    count = csv_count(BALLOTS)
    fc = racecast.forecast(count, seed=0, draws=200, remaining={"late_mail": 2500, "provisional": 200})
    assert baselines.remaining_votes(count, {"late_mail": 2500, "provisional": 200}) == pytest.approx(
        fc.remaining["amount"].sum() * votes_per_ballot(count)
    )


def test_a_stale_estimate_is_reported_not_silently_used():
    count = csv_count(
        "batch_type,Ann,Bob,outstanding_late_mail\nearly_mail,10,9,500\nlate_mail,20,30,\nlate_mail,40,50,\n"
    )
    out = resolve_outstanding(count)
    assert len(out.stale) == 1
    assert "release 1" in out.stale[0]
    assert resolve_outstanding(count, {"late_mail": 100}).stale == ()


def test_nothing_outstanding_reported_is_an_error_unless_remaining_says_complete():
    count = csv_count("batch_type,Ann,Bob\nearly_mail,10,9\n")
    with pytest.raises(racecast.ForecastInputError, match="remaining="):
        resolve_outstanding(count)
    assert resolve_outstanding(count, {}).total_votes == 0.0


def test_zero_ballots_counted_cannot_turn_ballots_into_votes():
    count = csv_count("batch_type,Ann,Bob,ballots_counted,outstanding_late_mail\nearly_mail,100,80,0,300\n")
    with pytest.raises(racecast.ForecastInputError, match="ballots_counted is 0"):
        resolve_outstanding(count)
    with pytest.raises(racecast.ForecastInputError, match="ballots_counted"):
        baselines.remaining_votes(count)


def test_the_model_carries_the_counted_types_then_the_outstanding_ones_not_counted_yet():
    count = csv_count(
        "release,batch_type,A,B,outstanding_late_mail,outstanding_provisional,outstanding_early_mail\n"
        "1,early_mail,600,400,500,30,0\n2,vote_center,1100,900,500,30,0\n"
    )
    out = resolve_outstanding(count)
    assert out.model_types(count) == ("early_mail", "vote_center", "late_mail", "provisional")


TOTALS = (
    "release,batch_type,Ann,Bob,ballots_counted,outstanding_late_mail,outstanding_provisional,outstanding_total\n"
    "1,early_mail,600,400,1200,3000,1000,\n"
    "2,late_mail,900,1100,3700,,,{total2}\n"
    "3,late_mail,1300,1400,4400,,,{total3}\n"
)


def test_a_total_fresher_than_every_split_replaces_it_shared_as_the_split_was_published():
    count = csv_count(TOTALS.format(total2="", total3="2000"))
    assert "total" not in count.batch_types  # outstanding_total is not a batch type
    out = resolve_outstanding(count)
    # the split of release 1 (3:1) shares the release-3 total; the stale split is not used
    assert out.amounts == pytest.approx({"late_mail": 1500.0, "provisional": 500.0})
    assert out.table["source"].str.startswith("total reported at release 3").all()
    assert out.stale == ()
    assert out.published == {}
    assert out.total_votes == pytest.approx(2000 * 2700 / 4400)
    # without the total, the release-1 late-mail estimate less what was counted since is used
    old = resolve_outstanding(csv_count(TOTALS.format(total2="", total3="")))
    assert old.amounts == {"late_mail": 0.0, "provisional": 1000.0}  # 3,000 less 3,200 counted since


def test_a_stale_total_loses_what_was_counted_since_and_says_so():
    count = csv_count(TOTALS.format(total2="4000", total3=""))
    out = resolve_outstanding(count)
    left = 4000 - (4400 - 3700)
    assert out.amounts == pytest.approx({"late_mail": 0.75 * left, "provisional": 0.25 * left})
    assert out.published == pytest.approx({"late_mail": 3000.0, "provisional": 1000.0})
    assert len(out.stale) == 1
    assert "outstanding_total was last reported at release 2" in out.stale[0]


def test_a_split_as_fresh_as_the_total_wins_and_an_override_ignores_the_total():
    same = TOTALS.replace("1,early_mail,600,400,1200,3000,1000,", "1,early_mail,600,400,1200,3000,1000,9999")
    out = resolve_outstanding(csv_count(same.format(total2="", total3="")))
    assert out.table["source"].str.startswith("reported at release 1").all()
    count = csv_count(TOTALS.format(total2="", total3="2000"))
    over = resolve_outstanding(count, {"late_mail": 10})
    assert over.amounts["late_mail"] == 10.0
    assert not over.table["source"].str.contains("total").any()


def test_a_total_with_no_split_goes_to_the_type_being_counted():
    text = "batch_type,Ann,Bob,outstanding_total\nearly_mail,600,400,\nlate_mail,900,1100,500\n"
    out = resolve_outstanding(csv_count(text))
    assert out.amounts == {"late_mail": 500.0}
    assert "all of it the type of the latest release" in out.table.loc["late_mail", "source"]


def test_the_total_survives_slicing_and_the_release_table():
    count = csv_count(TOTALS.format(total2="4000", total3="2000"))
    assert list(count[:2].outstanding_total[1:]) == [4000.0]
    assert count.releases["outstanding_total"].tolist()[1:] == [4000.0, 2000.0]
    again = racecast.Count.from_frame(
        count.releases.reset_index().melt(
            id_vars=["release", "batch_type"],
            value_vars=["Ann", "Bob"],
            var_name="candidate",
            value_name="votes",
        ),
        outstanding={"total": 2000},
    )
    assert again.outstanding_total[-1] == 2000.0
    assert "total" not in again.batch_types


def test_the_la_county_ballot_uses_the_registrars_totals_after_november_12():
    ballot = racecast.read_ballot(racecast.example_path("la_county_2022"))
    name = ballot.contests[0]
    at = {int(r): i for i, r in enumerate(ballot.release_ids)}
    out = resolve_outstanding(ballot.contest(name)[: at[9] + 1])
    assert out.table["source"].str.startswith("total reported at release 9").all()
    assert sum(out.amounts.values()) == pytest.approx(175050)


def test_a_bad_total_is_reported_with_its_row_and_column():
    with pytest.raises(racecast.CountFormatError) as info:
        csv_count(TOTALS.format(total2="-5", total3=""))
    assert info.value.row == 3
    assert info.value.column == "outstanding_total"
