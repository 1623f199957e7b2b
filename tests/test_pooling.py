"""Pooling small candidates into "Other (n candidates)"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import racecast
from racecast.errors import ForecastInputError
from racecast.pooling import is_pooled, pool_candidates, pooled_label, pooled_size, pooling_plan


def make_count(totals_by_release: list[dict[str, int]], outstanding: int = 1000) -> racecast.Count:
    rows = []
    for r, totals in enumerate(totals_by_release, start=1):
        for c, v in totals.items():
            rows.append({"release": r, "batch_type": "early_mail", "candidate": c, "votes": v})
    return racecast.Count.from_frame(pd.DataFrame(rows), outstanding={"late_mail": outstanding})


PRIMARY = [
    {"Bass": 100, "Caruso": 120, "De Leon": 20, "Viola": 15, "Smith": 3, "Kim": 2},
    {"Bass": 300, "Caruso": 280, "De Leon": 50, "Viola": 35, "Smith": 8, "Kim": 7},
]


def test_candidates_below_the_share_are_summed_release_by_release():
    count = make_count(PRIMARY)
    pooled = pool_candidates(count, 0.06)  # latest shares: 44, 41, 7.4, 5.2, 1.2, 1.0 %
    assert pooled.candidates == ("Bass", "Caruso", "De Leon", "Other (3 candidates)")
    assert pooled.votes[:, -1].tolist() == [15 + 3 + 2, 35 + 8 + 7]
    assert pooled.votes[:, :3].tolist() == [[100, 120, 20], [300, 280, 50]]
    assert pooled.votes.sum(axis=1).tolist() == count.votes.sum(axis=1).tolist()
    assert pooled.outstanding.equals(count.outstanding)
    assert pooled.release_batch_types == count.release_batch_types


def test_pooling_leaves_the_original_count_alone():
    count = make_count(PRIMARY)
    before = count.votes.copy()
    pool_candidates(count, 0.06)
    assert count.candidates == tuple(PRIMARY[0])
    assert np.array_equal(count.votes, before)


def test_shares_are_judged_on_the_latest_release():
    # Viola had 5.8% after release 1 but has 5.1% after release 2: the latest release decides
    count = make_count(PRIMARY)
    assert pooling_plan(count, 0.055) == ("Viola", "Smith", "Kim")


def test_a_single_small_candidate_is_not_renamed():
    count = make_count(PRIMARY)
    assert pooling_plan(count, 0.011) == ()  # only Kim (1.0%) is below
    assert pool_candidates(count, 0.011) is count


def test_kept_candidates_are_never_pooled():
    count = make_count(PRIMARY)
    pooled = pool_candidates(count, 0.06, keep=["Viola"])
    assert pooled.candidates == ("Bass", "Caruso", "De Leon", "Viola", "Other (2 candidates)")


def test_an_existing_bloc_is_merged_and_its_size_counted():
    count = make_count([{"A": 500, "B": 400, "C": 30, "Other (4 candidates)": 60, "D": 10}])
    pooled = pool_candidates(count, 0.05)
    assert pooled.candidates == ("A", "B", "Other (6 candidates)")
    assert pooled.totals["Other (6 candidates)"] == 100


def test_pooling_must_leave_two_named_candidates():
    count = make_count([{"A": 40, "B": 35, "C": 25}])
    with pytest.raises(ForecastInputError, match="at least two"):
        pool_candidates(count, 0.38)


@pytest.mark.parametrize("bad", [-0.1, 1.0, float("nan")])
def test_min_share_must_be_a_share(bad):
    with pytest.raises(ForecastInputError, match="min_share"):
        pool_candidates(make_count(PRIMARY), bad)


def test_no_votes_yet_means_no_shares_to_judge():
    with pytest.raises(ForecastInputError, match="no candidate has any votes"):
        pool_candidates(make_count([{"A": 0, "B": 0, "C": 0}]), 0.1)


def test_unknown_keep_names_are_refused():
    with pytest.raises(ForecastInputError, match="not candidates"):
        pool_candidates(make_count(PRIMARY), 0.06, keep=["Garcetti"])


def test_labels():
    assert pooled_label(12) == "Other (12 candidates)"
    assert is_pooled("Other (12 candidates)")
    assert not is_pooled("Other")
    assert not is_pooled("Other (x candidates)")
    assert pooled_size("Other (12 candidates)") == 12
    assert pooled_size("Bass") == 1
    with pytest.raises(ValueError, match="at least two candidates"):
        pooled_label(1)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(0, 10_000), min_size=3, max_size=12).filter(lambda v: sum(v) > 0), st.floats(0, 0.3)
)
def test_pooling_keeps_every_vote_and_every_large_candidate(votes, min_share):
    totals = {f"C{i}": v for i, v in enumerate(votes)}
    count = make_count([totals])
    try:
        pooled = pool_candidates(count, min_share)
    except ForecastInputError:
        # only when fewer than two named candidates would be left
        assert sum(v / sum(votes) >= min_share for v in votes) < 2
        return
    assert pooled.votes.sum() == count.votes.sum()
    for name, v in totals.items():
        if v / sum(votes) >= min_share:
            assert name in pooled.candidates
    assert sum(pooled_size(c) for c in pooled.candidates) == len(votes)
