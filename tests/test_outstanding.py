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
