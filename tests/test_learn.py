"""racecast.learn_priors: hyper-parameters learned by the predictive log score of completed counts."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
import pytest

import racecast
from racecast.learn import learn_priors, mean_log_score, score_releases
from racecast.release_fits import fit_releases


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
    # racecast 0.1's hand-set model scales, not the learned defaults
    assert (racecast.Priors.model_only().type_sd, racecast.Priors.model_only().batch_sd) == (0.5, 0.2)
    assert (racecast.Priors().type_sd, racecast.Priors().batch_sd) != (0.5, 0.2)


def test_the_grid_searches_the_simulation_terms_of_priors_and_outstanding_sd():
    from racecast.learn import GRID
    from racecast.model.data import simulation_terms

    assert set(GRID) == {*simulation_terms(), "outstanding_sd"}
    assert racecast.Priors.model_only() == racecast.Priors(
        **dict.fromkeys(simulation_terms()), type_sd=0.5, batch_sd=0.2, place_sd=0.0
    )
    from racecast.learned_scales import SCALES_GRID

    assert set(SCALES_GRID) == {"type_sd", "batch_sd", "batch_size_floor"}
    assert SCALES_GRID["batch_size_floor"] == (1.0,)  # learned apart, not shipped (docs/model.md)
    # place_sd is hand-set like drift_sd (docs/model.md, Place effects); racecast 0.1 has none
    assert racecast.Priors.model_only().place_sd == 0.0
    assert racecast.Priors().place_sd == 0.5


def test_fits_take_the_model_scales_given_and_every_score_keeps_them(fits):
    count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        narrow = fit_releases([count], priors=racecast.Priors(type_sd=0.25), draws=300)
    assert {f.data.priors.type_sd for f in narrow} == {0.25}
    # a posterior drawn under type_sd 0.25 is simulated as such, whatever priors the score is given
    terms = racecast.Priors.model_only(revision_rel=1e-3)
    same = score_releases(narrow, terms)
    assert same.equals(score_releases(narrow, racecast.Priors.model_only(type_sd=0.5, revision_rel=1e-3)))
    # and the scale matters: the hand-set fits give other forecasts of the same releases
    assert not same["log_score"].equals(score_releases(fits, terms)["log_score"])


def test_learned_priors_carry_the_scales_the_releases_were_fitted_with():
    count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        narrow = fit_releases([count], priors=racecast.Priors(type_sd=0.25, batch_sd=0.1), draws=200)
        learned = learn_priors(narrow, grid={"revision_rel": (None, 3e-4)}, passes=1)
        # from counts, the fits take the scales of the priors given
        direct = learn_priors([count], priors=racecast.Priors(type_sd=0.25), grid={}, passes=1, draws=200)
    assert (learned.priors.type_sd, learned.priors.batch_sd) == (0.25, 0.1)
    assert learned.to_dict()["type_sd"] == 0.25
    assert learned.to_dict()["batch_sd"] == 0.1
    assert direct.priors.type_sd == 0.25


def test_releases_fitted_with_different_scales_cannot_be_learned_from_together(fits):
    count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        other = fit_releases([count[:5]], priors=racecast.Priors(type_sd=0.25), draws=100)
    with pytest.raises(racecast.ForecastInputError, match="other model scales"):
        learn_priors([*fits, *other], grid={}, passes=1)


def test_learn_scales_refits_every_combination_and_keeps_the_best_log_score():
    from racecast.learned_scales import learn_scales

    count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    grid = {"type_sd": (0.25, 0.5), "batch_sd": (0.1, 0.2)}
    terms = racecast.Priors(revision_rel=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        got = learn_scales([count], grid=grid, priors=terms, draws=200)
        by_scales = {
            (t, b): fit_releases([count], priors=racecast.Priors(type_sd=t, batch_sd=b), draws=200)
            for t in grid["type_sd"]
            for b in grid["batch_sd"]
        }
        again = learn_scales(by_scales, grid=grid, priors=terms)
    table = got.table
    assert len(table) == 4
    assert table["log_score"].nunique() == 4  # each combination is its own fit
    best = table.loc[table["log_score"].idxmax()]
    assert got.scales() == {"type_sd": best["type_sd"], "batch_sd": best["batch_sd"]}
    assert got.log_score == pytest.approx(best["log_score"])
    assert got.priors.revision_rel == 1e-3  # the terms given are kept
    pd.testing.assert_frame_equal(again.table, table)  # fits given in advance: the same search
    with pytest.raises(racecast.ForecastInputError, match="no fitted releases"):
        learn_scales(by_scales, grid={"type_sd": (0.35,), "batch_sd": (0.2,)})
    with pytest.raises(racecast.ForecastInputError, match="not model scales"):
        learn_scales([count], grid={"drift_sd": (0.1,)})
