"""Contest rules through racecast.forecast: many candidates, seats, called races, pooling.

Counts are built from declared leans per batch type, so the expected final
shares are worked out by hand from the construction (see each test), not from
the code under test.  All forecasts use the fast engine.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
import pytest

import racecast
from racecast.errors import CalledRaceWarning, ForecastInputError, UnseenBatchTypeWarning
from racecast.rules import lead_change_probability


def build_count(
    leans: dict[str, dict[str, float]],
    releases: list[tuple[str, int]],
    outstanding: dict[str, float],
    seed: int = 0,
) -> racecast.Count:
    """Cumulative count whose release ``r`` adds ``n`` votes drawn with the lean of its batch type."""
    rng = np.random.default_rng(seed)
    names = list(next(iter(leans.values())))
    total = np.zeros(len(names), dtype=np.int64)
    rows = []
    for r, (btype, n) in enumerate(releases, start=1):
        p = np.array([leans[btype][c] for c in names])
        total += rng.multinomial(n, p / p.sum())
        rows += [
            {"release": r, "batch_type": btype, "candidate": c, "votes": int(v)}
            for c, v in zip(names, total, strict=True)
        ]
    return racecast.Count.from_frame(pd.DataFrame(rows), outstanding=outstanding, name="synthetic")


# A three-way race: C trails on the early mail and election day vote, but late mail is C's base.
# Counted: early 60k (A 45 / B 35 / C 20%), election day 20k (42/38/20), late mail 12k (25/25/50)
#   -> A 38.4k, B 31.6k, C 22.0k: C third with 23.9%.
# Outstanding: 100k late mail at 25/25/50 -> final A 63.4k (33.0%), B 56.6k (29.5%), C 72.0k (37.5%).
THREE_WAY_LEANS = {
    "early_mail": {"A": 0.45, "B": 0.35, "C": 0.20},
    "election_day": {"A": 0.42, "B": 0.38, "C": 0.20},
    "late_mail": {"A": 0.25, "B": 0.25, "C": 0.50},
}
THREE_WAY_RELEASES = [
    ("early_mail", 30_000),
    ("early_mail", 30_000),
    ("election_day", 20_000),
    ("late_mail", 4_000),
    ("late_mail", 4_000),
    ("late_mail", 4_000),
]


@pytest.fixture(scope="module")
def three_way() -> racecast.Count:
    return build_count(THREE_WAY_LEANS, THREE_WAY_RELEASES, {"late_mail": 100_000})


def test_a_trailing_candidate_whose_base_is_outstanding_becomes_the_favourite(three_way):
    assert three_way.totals.idxmax() == "A"
    assert three_way.totals.idxmin() == "C"
    fc = racecast.forecast(three_way, seed=1, engine="fast")
    assert fc.win_probability["C"] > 0.5
    assert fc.leader == "A"
    assert fc.lead_change_probability > 0.5
    assert fc.final_share.loc["C", "median"] == pytest.approx(0.375, abs=0.03)
    assert fc.final_share.loc["C", "lower"] > three_way.totals["C"] / three_way.totals.sum()


def test_the_same_ballots_as_early_mail_would_keep_the_trailing_candidate_third(three_way):
    # 100k more early mail at 45/35/20 -> A 83.4k, B 66.6k, C 42k: C cannot win
    fc = racecast.forecast(
        three_way, seed=1, engine="fast", remaining={"late_mail": 0, "early_mail": 100_000}
    )
    assert fc.win_probability["C"] < 0.01
    assert fc.lead_change_probability < 0.05


def test_top_two_in_the_three_way_race(three_way):
    fc = racecast.forecast(three_way, seed=1, engine="fast", rule="top_two")
    # C (37.5%) and A (33.0%) are expected to advance; B (29.5%) is 3.5 points behind A
    assert fc.win_probability.sum() == pytest.approx(2.0)
    assert fc.win_probability["C"] > 0.9
    assert fc.win_probability["B"] < 0.2
    assert fc.outcomes[fc.outcomes.event == "pairing"]["probability"].sum() == pytest.approx(1.0)


def test_majority_in_the_three_way_race_goes_to_a_runoff(three_way):
    fc = racecast.forecast(three_way, seed=1, engine="fast", rule="majority")
    # nobody is near 50%: a runoff, most likely C vs A
    assert fc.rule_result.probability("runoff") > 0.99
    assert fc.win_probability.sum() + fc.rule_result.probability("runoff") == pytest.approx(1.0)
    pairings = fc.rule_result.probabilities("runoff_pairing")
    assert pairings.index[0] == "A vs C"
    assert "P(runoff)" in fc.summary()
    assert "P(outright)" in fc.summary()


# ---------------------------------------------------------------------------
# K = 3, 5, 12 candidates
# ---------------------------------------------------------------------------
def many_candidates(k: int, seed: int = 0) -> racecast.Count:
    rng = np.random.default_rng(seed)
    names = [f"Candidate {i + 1}" for i in range(k)]
    leans = {
        t: dict(zip(names, rng.dirichlet(np.full(k, 4.0)), strict=True))
        for t in ("early_mail", "election_day", "late_mail")
    }
    releases = [
        ("early_mail", 40_000),
        ("early_mail", 25_000),
        ("election_day", 30_000),
        ("late_mail", 15_000),
    ]
    return build_count(leans, releases, {"late_mail": 60_000}, seed=seed)


EXPECTED_SUM = {"plurality": 1.0, "top_two": 2.0, "seats:2": 2.0, "seats:3": 3.0}


@pytest.mark.parametrize(
    ("k", "rule"),
    [(k, rule) for k in (3, 5, 12) for rule in ("plurality", "top_two", "seats:3", "majority")]
    + [(3, "seats:2")],
)
def test_probabilities_sum_as_the_rule_says_for_k_candidates(k, rule):
    count = many_candidates(k)
    fc = racecast.forecast(count, seed=k, engine="fast", rule=rule)
    assert fc.candidates == count.candidates
    assert fc.final_draws.shape[1] == k
    if rule == "majority":
        total = fc.win_probability.sum() + fc.rule_result.probability("runoff")
        assert total == pytest.approx(1.0)
        assert fc.rule_result.probabilities("reach_runoff").sum() == pytest.approx(
            2 * fc.rule_result.probability("runoff")
        )
    else:
        assert fc.win_probability.sum() == pytest.approx(EXPECTED_SUM[rule])
    p = fc.outcomes["probability"]
    assert ((p >= 0) & (p <= 1)).all()
    assert fc.final_share["median"].sum() == pytest.approx(1.0, abs=0.01)


def test_twelve_candidates_run_in_seconds():
    count = many_candidates(12, seed=3)
    start = time.perf_counter()
    fc = racecast.forecast(count, seed=0, engine="fast", rule="top_two", draws=2000)
    elapsed = time.perf_counter() - start
    assert fc.win_probability.sum() == pytest.approx(2.0)
    assert elapsed < 30, f"K=12 fast forecast took {elapsed:.1f}s"


def test_seats_three_of_eight_through_forecast():
    count = many_candidates(8, seed=5)
    fc = racecast.forecast(count, seed=0, engine="fast", seats=3)
    assert fc.rule.name == "seats"
    assert fc.win_probability.sum() == pytest.approx(3.0)
    assert fc.settings["seats"] == 3


def test_lead_change_agrees_with_the_plurality_win_probability(three_way):
    fc = racecast.forecast(three_way, seed=2, engine="fast")
    # two computations of one quantity: they may differ only by draws decided by a coin flip
    assert abs(
        fc.lead_change_probability - (1 - fc.win_probability[fc.leader])
    ) <= fc.rule_result.probability("tie")
    assert fc.lead_change_probability == lead_change_probability(three_way.totals, fc.final_draws)


# ---------------------------------------------------------------------------
# Called races flow through every output
# ---------------------------------------------------------------------------
def test_a_called_race_pins_every_output(three_way):
    free = racecast.forecast(three_way, seed=1, engine="fast")
    fc = racecast.forecast(three_way, seed=1, engine="fast", called="A")
    assert fc.win_probability.to_dict() == {"A": 1.0, "B": 0.0, "C": 0.0}
    assert fc.rule_result.called_probability == pytest.approx(free.win_probability["A"])
    # A finishes first in every kept draw, so each of A's share quantiles is above the others'
    fs = fc.final_share
    for col in ("median", "lower", "upper"):
        assert fs.loc["A", col] >= fs.loc[["B", "C"], col].max()
    assert fc.final_votes.loc["A", "median"] >= fc.final_votes.loc["C", "median"]
    assert fc.lead_change_probability == 0.0  # A leads now and is called
    assert fc.final_margin.min() >= 0
    d = fc.to_dict()
    assert d["called"] == ["A"]
    assert d["candidates"][0]["win_probability"] == 1.0
    assert "called: A" in fc.summary()
    kept = fc.idata.posterior_predictive["consistent_with_call"].to_numpy()
    assert kept.mean() == pytest.approx(fc.rule_result.called_probability)


def test_a_called_runoff_pair_under_the_majority_rule(three_way):
    fc = racecast.forecast(three_way, seed=1, engine="fast", rule="majority", called=["C", "A"])
    assert fc.rule_result.probability("runoff") == 1.0
    assert fc.rule_result.probabilities("reach_runoff").to_dict() == {"A": 1.0, "B": 0.0, "C": 1.0}


def test_bad_rule_arguments_fail_before_any_fitting(three_way):
    with pytest.raises(ForecastInputError, match="not a candidate"):
        racecast.forecast(three_way, engine="fast", called="Z")
    with pytest.raises(ForecastInputError, match="conflicts"):
        racecast.forecast(three_way, engine="fast", rule="majority", seats=2)
    with pytest.raises(ForecastInputError, match="'Yes' and 'No'"):
        racecast.forecast(three_way, engine="fast", rule="threshold:2/3")
    with pytest.raises(ForecastInputError, match="at least 4"):
        racecast.forecast(three_way, engine="fast", seats=4)


# ---------------------------------------------------------------------------
# Pooling small candidates
# ---------------------------------------------------------------------------
def crowded_primary() -> racecast.Count:
    # two front-runners, a third at ~10%, five minor candidates at 1-2% each
    lean = {"Bass": 0.40, "Caruso": 0.38, "De Leon": 0.10, "Viola": 0.04}
    lean |= {f"Minor {i}": 0.016 for i in range(5)}
    late = dict(lean, Bass=0.46, Caruso=0.32)
    leans = {"early_mail": lean, "late_mail": late}
    return build_count(leans, [("early_mail", 50_000), ("late_mail", 10_000)], {"late_mail": 40_000})


def test_min_share_pools_the_small_candidates_into_other():
    count = crowded_primary()
    fc = racecast.forecast(count, seed=0, engine="fast", rule="majority", min_share=0.03)
    assert fc.candidates == ("Bass", "Caruso", "De Leon", "Viola", "Other (5 candidates)")
    assert fc.settings["pooled"] == [f"Minor {i}" for i in range(5)]
    assert fc.count.votes.sum() == count.votes.sum()
    assert fc.win_probability["Other (5 candidates)"] == 0.0
    assert fc.rule_result.probabilities("reach_runoff")["Other (5 candidates)"] == 0.0
    assert fc.win_probability.sum() + fc.rule_result.probability("runoff") == pytest.approx(1.0)


def test_a_called_candidate_is_never_pooled():
    count = crowded_primary()
    with pytest.warns(CalledRaceWarning):  # the model gives Viola (4%) no chance; the call is imposed
        fc = racecast.forecast(count, seed=0, engine="fast", min_share=0.05, called="Viola")
    assert "Viola" in fc.candidates
    assert fc.win_probability["Viola"] == 1.0
    assert fc.candidates[-1] == "Other (5 candidates)"


# ---------------------------------------------------------------------------
# Ballot measures
# ---------------------------------------------------------------------------
def test_a_two_thirds_measure_through_forecast():
    # counted 40k at 64% Yes + 10k late mail at 72%; 30k late mail outstanding at 72%
    # -> final (25.6k + 7.2k + 21.6k) / 80k = 68.0% Yes: above two-thirds
    leans = {"early_mail": {"Yes": 0.64, "No": 0.36}, "late_mail": {"Yes": 0.72, "No": 0.28}}
    releases = [("early_mail", 20_000), ("early_mail", 20_000), ("late_mail", 5_000), ("late_mail", 5_000)]
    count = build_count(leans, releases, {"late_mail": 30_000})
    fc = racecast.forecast(count, seed=0, engine="fast", rule="threshold:2/3")
    assert fc.win_probability.sum() == pytest.approx(1.0)
    assert fc.rule_result.probabilities("pass").index.tolist() == ["Yes"]
    assert fc.final_share.loc["Yes", "median"] == pytest.approx(0.68, abs=0.015)
    assert fc.win_probability["Yes"] > 0.6


def test_without_the_other_ten_candidates_the_la_primary_never_goes_to_a_runoff():
    # the bundled primary file has only Bass and Caruso: under a majority rule one of them
    # always has more than half, so the example must add the other ten (see the example)
    count = racecast.read_count(racecast.example_path("la_mayor_2022_primary"))[:1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnseenBatchTypeWarning)
        fc = racecast.forecast(count, seed=0, engine="fast", rule="majority")
    assert fc.rule_result.probability("runoff") == 0.0
