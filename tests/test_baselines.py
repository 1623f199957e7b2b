"""Baseline forecasters on toy counts small enough to work out by hand."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
import pytest

import racecast
from racecast import baselines
from racecast.errors import CorrectionWarning, ForecastInputError


def _count(csv: str) -> racecast.Count:
    return racecast.read_count(io.StringIO(csv), name="toy.csv")


@pytest.fixture
def toy() -> racecast.Count:
    # Counted 7-5 after two releases; the second release went 1-3; 4 votes outstanding.
    return _count("release,batch_type,A,B,outstanding_mixed\n1,mixed,6,2,\n2,mixed,7,5,4\n")


def test_counted_split_win_probability_is_the_binomial_tail(toy):
    # X ~ Binomial(4, 7/12) votes for A; A wins iff 7 + X > 5 + 4 - X iff X >= 2; X = 1 is a tie (coin flip).
    p, q = 7 / 12, 5 / 12
    p0, p1 = q**4, 4 * p * q**3
    fc = baselines.counted_split(toy)
    assert fc.remaining_votes == 4
    assert fc.win_probability["A"] == pytest.approx(1 - p0 - p1 + 0.5 * p1)
    assert fc.win_probability.sum() == pytest.approx(1.0)


def test_counted_split_interval_is_exact_binomial_quantiles(toy):
    # A: Binomial(4, 7/12) has cdf 0.030, 0.199, 0.553, 0.884, 1 -> 5%: 1, median: 2, 95%: 4
    # B: Binomial(4, 5/12) has cdf 0.116, 0.447, 0.801, 0.970, 1 -> 5%: 0, median: 2, 95%: 3
    fc = baselines.counted_split(toy, interval=0.9)
    assert fc.final_votes.loc["A"].to_dict() == {"median": 9, "lower": 8, "upper": 11}
    assert fc.final_votes.loc["B"].to_dict() == {"median": 7, "lower": 5, "upper": 8}
    assert fc.final_share.loc["A", "lower"] == pytest.approx(8 / 16)
    assert fc.final_share.loc["B", "upper"] == pytest.approx(8 / 16)
    assert list(fc.final_share.columns) == ["median", "lower", "upper"]


def test_last_release_split_uses_the_last_batch(toy):
    # Last batch 1-3: A gets Binomial(4, 1/4); A wins iff X >= 2, ties at X = 1.
    fc = baselines.last_release_split(toy)
    assert fc.split.to_dict() == {"A": 0.25, "B": 0.75}
    p0, p1 = 0.75**4, 4 * 0.25 * 0.75**3
    assert fc.win_probability["A"] == pytest.approx(1 - p0 - p1 + 0.5 * p1) == pytest.approx(0.47265625)


def test_leader_wins_is_certain_and_splits_exact_ties(toy):
    assert baselines.leader_wins(toy).win_probability.to_dict() == {"A": 1.0, "B": 0.0}
    tied = _count("batch_type,A,B,C,outstanding_mixed\nmixed,5,5,1,3\n")
    assert baselines.leader_wins(tied).win_probability.to_dict() == {"A": 0.5, "B": 0.5, "C": 0.0}
    # its shares are the counted split's
    pd.testing.assert_frame_equal(
        baselines.leader_wins(toy).final_share, baselines.counted_split(toy).final_share
    )


def test_last_release_split_merges_corrections_and_skips_empty_releases():
    csv = (
        "release,batch_type,A,B,outstanding_mixed\n"
        "1,mixed,10,10,\n"
        "2,mixed,16,12,\n"  # +6, +2
        "3,mixed,15,14,\n"  # A goes down: merged with release 2 -> +5, +4
        "4,mixed,15,14,10\n"  # adds nothing
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorrectionWarning)
        count = _count(csv)
    assert baselines.last_release_split(count).split.to_numpy() == pytest.approx([5 / 9, 4 / 9])


def test_remaining_defaults_to_latest_outstanding_summed_over_types():
    csv = (
        "batch_type,A,B,outstanding_late_mail,outstanding_provisional\n"
        "early_mail,6,4,100,7\n"
        "late_mail,10,10,50,\n"  # provisional not re-reported: its latest estimate (7) still counts
    )
    assert baselines.remaining_votes(_count(csv)) == pytest.approx(57)
    # remaining= overrides type by type, as in racecast.forecast
    assert baselines.counted_split(_count(csv), remaining={"late_mail": 3}).remaining_votes == 10


def test_outstanding_ballots_are_converted_with_the_counted_votes_per_ballot():
    # 12 contest votes in 20 jurisdiction ballots -> 0.6 votes per ballot; 10 ballots -> 6 votes.
    csv = "batch_type,A,B,ballots_counted,outstanding_mixed\nmixed,4,2,,\nmixed,7,5,20,10\n"
    count = _count(csv)
    assert count.outstanding_unit == "ballots"
    assert baselines.remaining_votes(count) == pytest.approx(6.0)
    assert baselines.counted_split(count).remaining_votes == 6


def test_no_outstanding_estimate_asks_for_remaining():
    count = _count("batch_type,A,B\nmixed,6,4\n")
    with pytest.raises(ForecastInputError, match="pass remaining="):
        baselines.counted_split(count)
    with pytest.raises(ForecastInputError, match="non-negative"):
        baselines.counted_split(count, remaining={"mixed": -1})
    assert baselines.leader_wins(count, remaining={}).remaining_votes == 0


def test_nothing_left_to_count_means_the_leader_wins_with_no_width():
    count = _count("batch_type,A,B,outstanding_mixed\nmixed,6,4,0\n")
    fc = baselines.last_release_split(count)
    assert fc.win_probability.to_dict() == {"A": 1.0, "B": 0.0}
    assert (fc.final_share["lower"] == fc.final_share["upper"]).all()


def test_binomial_interval_is_under_a_tenth_of_a_point_with_a_million_votes_left():
    # The documented reason the baselines are overconfident.
    count = _count("batch_type,A,B,outstanding_mixed\nmixed,500000,500000,1000000\n")
    fc = baselines.counted_split(count)
    width = fc.final_share["upper"] - fc.final_share["lower"]
    assert (width < 0.001).all()
    assert width.iloc[0] == pytest.approx(3.29 * np.sqrt(1e6 * 0.25) / 2e6, rel=0.02)


def test_three_candidates_use_seeded_multinomial_draws():
    # C has no votes, so gets none of the remainder; A and B are symmetric.
    count = _count("batch_type,A,B,C,outstanding_mixed\nmixed,50,50,0,20\n")
    a = baselines.counted_split(count, seed=3, draws=4000)
    b = baselines.counted_split(count, seed=3, draws=4000)
    pd.testing.assert_series_equal(a.win_probability, b.win_probability)
    assert a.win_probability["C"] == 0.0
    assert a.win_probability["A"] == pytest.approx(0.5, abs=0.03)
    assert a.win_probability.sum() == pytest.approx(1.0)


def test_every_baseline_has_the_forecast_output_shape(toy):
    for name, fn in baselines.BASELINES.items():
        fc = fn(toy)
        assert fc.method == name
        assert list(fc.win_probability.index) == ["A", "B"]
        assert (fc.final_share["lower"] <= fc.final_share["median"]).all()
        assert (fc.final_share["median"] <= fc.final_share["upper"]).all()


def test_la_general_baselines_before_the_late_mail():
    count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    # After release 3 Caruso leads by 12,282 votes; ~376k votes remain.
    fc = baselines.counted_split(count[:3])
    assert fc.remaining_votes == round(1006300 * (240194 + 252476) / 1318093)
    assert fc.win_probability["Rick Caruso"] > 0.999  # the binomial model's overconfidence: Bass won


def test_baselines_and_forecast_treat_outstanding_alike():
    count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))[:5]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        fc = racecast.forecast(count, seed=0, engine="fast", draws=200)
    ratio = count.votes[-1].sum() / count.ballots_counted[-1]
    assert baselines.remaining_votes(count) == pytest.approx(fc.remaining["amount"].sum() * ratio)
