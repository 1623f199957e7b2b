"""racecast.learn_priors: hyper-parameters learned by the predictive log score of completed counts."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
import pytest

import racecast
from racecast.learn import fit_releases, learn_priors, mean_log_score, score_releases


@pytest.fixture(scope="module")
def fits():
    count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        return fit_releases([count], draws=300)


def test_each_release_with_an_outstanding_estimate_is_fitted_once(fits):
    assert len(fits) == 13  # releases 3-15 (1 and 2 say nothing about what is outstanding)
    assert all(f.final.sum() == 509_944 + 420_030 for f in fits)
    assert all(f.margin == pytest.approx((509_944 - 420_030) / (509_944 + 420_030)) for f in fits)


def test_scores_use_common_random_numbers_and_the_guard_bounds_them(fits):
    a = score_releases(fits, racecast.Priors.model_only())
    b = score_releases(fits, racecast.Priors.model_only())
    assert a.equals(b)
    assert (a["log_score"] >= np.log(1e-3 / 2) - 1e-12).all()
    assert mean_log_score(a) == pytest.approx(a["log_score"].mean())  # one count: its mean


def test_learning_never_scores_worse_than_where_it_starts(fits):
    learned = learn_priors(fits, grid={"revision_rel": (None, 1e-3), "outstanding_sd": (0.15, 0.3)}, passes=1)
    assert learned.log_score >= learned.start_log_score
    assert learned.n_releases == 13
    assert set(learned.path["parameter"]) == {"revision_rel", "outstanding_sd"}
    assert learned.to_dict()["outstanding_sd"] in (0.15, 0.3)


def test_a_point_forecast_that_missed_scores_low_and_revisions_lift_it():
    text = "batch_type,Ann,Bob,outstanding_early_mail\nearly_mail,5000,4990,0\nearly_mail,10000,9990,0\n"
    count = racecast.read_count(io.StringIO(text), name="reported complete")
    fits = fit_releases([count], finals=[[10_010, 10_000]], draws=300)  # the canvass added 20 votes
    off = score_releases(fits, racecast.Priors.model_only())["log_score"]
    on = score_releases(fits, racecast.Priors(revision_rel=1e-3, revision_abs=0.5))["log_score"]
    assert (off < 0).all()  # a point 5 bandwidths from the truth
    assert (on > off + 5).all()


def test_no_forecastable_release_is_an_input_error():
    count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))[:2]
    with pytest.raises(racecast.ForecastInputError, match="no release"):
        learn_priors([count])


def test_groups_weigh_each_election_the_same_not_each_count():
    scores = pd.DataFrame({"count": ["a", "b", "c", "c"], "log_score": [1.0, 1.0, 4.0, 4.0]})
    assert mean_log_score(scores) == pytest.approx(2.0)  # counts a, b, c weigh the same
    groups = {"a": "ballot", "b": "ballot", "c": "feed"}
    assert mean_log_score(scores, groups) == pytest.approx(2.5)  # (mean(1, 1) + 4) / 2
    assert mean_log_score(scores, {"a": "ballot"}) == pytest.approx(2.0)  # b and c their own groups


def test_model_only_turns_every_simulation_term_off_and_keeps_given_scales():
    pr = racecast.Priors.model_only(batch_sd=0.1, remainder_sd=0.2)
    assert pr.batch_sd == 0.1
    assert pr.remainder_sd == 0.2
    assert not pr.revises
    assert (pr.untyped_remainder_sd, pr.unseen_type_df, pr.unseen_type_floor, pr.outstanding_df) == (
        None,
    ) * 4
    assert racecast.Priors().revises  # the learned defaults revise counted votes


def test_the_grid_searches_the_simulation_terms_of_priors_and_outstanding_sd():
    from racecast.learn import GRID
    from racecast.model.data import simulation_terms

    assert set(GRID) == {*simulation_terms(), "outstanding_sd"}
    assert racecast.Priors.model_only() == racecast.Priors(**dict.fromkeys(simulation_terms()))
