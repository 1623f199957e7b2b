"""The moments-based batch-type yardstick (racecast.evaluation.yardstick.type_moments)."""

from __future__ import annotations

import numpy as np
import pytest

import racecast
from racecast.evaluation.yardstick import type_moments

from .conftest import csv_count

# early_mail: two batches of 1,000 at 60% and 40% for A (share 0.5, between-batch sd 0.1*sqrt(2));
# late_mail: one batch of 1,000 at 30% for A.  Outstanding: 2,000 late mail, 1,000 provisional.
COUNT = (
    "release,batch_type,A,B,outstanding_late_mail,outstanding_provisional\n"
    "1,early_mail,600,400,2000,1000\n"
    "2,early_mail,1000,1000,2000,1000\n"
    "3,late_mail,1300,1700,2000,1000\n"
)


def test_each_type_splits_like_its_own_batches_and_an_unseen_type_like_everything():
    count = csv_count(COUNT)
    fc = type_moments(count, seed=1, draws=20_000)
    # late mail 2,000 at 30% A, provisional 1,000 at the counted 1300/3000
    expected = (2000 * 0.3 + 1000 * 1300 / 3000) / 3000
    assert fc.split["A"] == pytest.approx(expected)
    assert fc.remaining_votes == 3000
    assert fc.final_votes.loc["A", "median"] == pytest.approx(1300 + 3000 * expected, rel=0.01)
    assert fc.win_probability.sum() == pytest.approx(1.0)
    assert (fc.final_share["lower"] <= fc.final_share["median"]).all()
    assert (fc.final_share["median"] <= fc.final_share["upper"]).all()


def test_a_type_whose_batches_agree_has_only_the_spread_of_the_types():
    agreeing = COUNT.replace("1,early_mail,600,400", "1,early_mail,500,500")
    spread = type_moments(csv_count(COUNT), seed=2, draws=20_000).final_share.loc["A"]
    calm = type_moments(csv_count(agreeing), seed=2, draws=20_000).final_share.loc["A"]
    # no between-batch spread anywhere: late mail (one batch) borrows the pooled covariance, zero
    assert calm["upper"] - calm["lower"] < spread["upper"] - spread["lower"]


def test_it_replays_like_any_baseline():
    count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    rp = racecast.replay(count, forecaster=type_moments, seed=1, progress=False)
    assert rp.forecaster == "type_moments"
    table = rp.to_frame().dropna(subset=["win_probability"])
    assert table["as_of_release"].nunique() == 13  # releases 3-15 have an outstanding estimate
    assert np.allclose(table.groupby("as_of_release")["win_probability"].sum(), 1.0)
    with pytest.raises(racecast.ForecastInputError, match="no release has added votes"):
        type_moments(csv_count("release,batch_type,A,B,outstanding_mixed\n1,mixed,0,0,10\n"))
