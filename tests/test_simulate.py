"""The sum of a type's batch draws: drawn batch by batch, or from its normal when that is exact enough.

Given the batch shares, a type's added votes are a sum of independent binomials
(multinomials).  With a sampling sd of 100 votes or more the simulation draws the
sum from the normal of the same mean and covariance; these tests hold it to the
exact batch-by-batch draw, with tolerances a wrong mean or variance would fail.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from scipy import stats

import racecast
from racecast.model import build_model_data, fit_fast
from racecast.simulate import (
    CLT_MIN_VARIANCE,
    RemainingSpec,
    _sum_of_binomials,
    _sum_of_multinomials,
    outstanding_factor,
    revise,
    type_lean,
)

from .conftest import csv_count

DRAWS = 40_000


def _batches(rng: np.random.Generator, m: int, low: int, high: int) -> np.ndarray:
    """One fixed set of batch sizes, repeated for every draw."""
    return np.tile(rng.integers(low, high, m), (DRAWS, 1))


def test_a_large_two_way_sum_has_the_exact_binomial_sums_distribution():
    rng = np.random.default_rng(11)
    n = _batches(rng, 30, 2_000, 6_000)
    p = np.tile(rng.uniform(0.35, 0.7, 30), (DRAWS, 1))  # fixed shares: sampling noise alone
    assert (n * p * (1 - p)).sum(axis=1).min() >= CLT_MIN_VARIANCE  # the normal path is the one tested
    clt = _sum_of_binomials(n, p, np.random.default_rng(1))
    exact = np.random.default_rng(2).binomial(n, p).sum(axis=1)
    a = clt[:, 0].astype(float)
    se = np.sqrt(a.var() / DRAWS + exact.var() / DRAWS)
    assert abs(a.mean() - exact.mean()) < 4 * se
    assert a.std() == pytest.approx(exact.std(), rel=0.03)
    assert stats.ks_2samp(a, exact).pvalue > 0.001
    np.testing.assert_array_equal(clt.sum(axis=1), n.sum(axis=1))


def test_a_large_three_way_sum_has_the_exact_multinomial_sums_mean_and_covariance():
    rng = np.random.default_rng(12)
    n = _batches(rng, 20, 3_000, 8_000)
    p = np.broadcast_to(rng.dirichlet([6, 4, 3], 20), (DRAWS, 20, 3)).copy()
    clt = _sum_of_multinomials(n, p, np.random.default_rng(1)).astype(float)
    exact = np.random.default_rng(2).multinomial(n, p).sum(axis=1).astype(float)
    np.testing.assert_array_equal(clt.sum(axis=1), n.sum(axis=1))
    se = np.sqrt(clt.var(axis=0) / DRAWS + exact.var(axis=0) / DRAWS)
    assert (np.abs(clt.mean(axis=0) - exact.mean(axis=0)) < 4 * se).all()
    # covariance, candidates against each other (negative off the diagonal): within 4%
    np.testing.assert_allclose(np.cov(clt.T), np.cov(exact.T), rtol=0.04)
    for c in range(3):
        assert stats.ks_2samp(clt[:, c], exact[:, c]).pvalue > 0.001


def test_a_small_sum_is_drawn_batch_by_batch():
    """Below the variance threshold the draw is the exact one, draw for draw."""
    rng = np.random.default_rng(13)
    n = rng.integers(0, 400, (500, 8))
    p = rng.uniform(0.05, 0.95, (500, 8))
    assert (n * p * (1 - p)).sum(axis=1).max() < CLT_MIN_VARIANCE
    got = _sum_of_binomials(n, p, np.random.default_rng(5))
    np.testing.assert_array_equal(got[:, 0], np.random.default_rng(5).binomial(n, p).sum(axis=1))
    p3 = rng.dirichlet([1, 1, 1], (500, 8))
    got3 = _sum_of_multinomials(n, p3, np.random.default_rng(6))
    np.testing.assert_array_equal(got3, np.random.default_rng(6).multinomial(n, p3).sum(axis=1))


def test_a_candidate_with_almost_no_votes_keeps_the_exact_draw():
    """One candidate's small variance sends the whole draw to the exact multinomial: no negative counts."""
    n = np.full((2_000, 10), 50_000)
    p = np.tile([0.6, 0.39998, 0.00002], (2_000, 10, 1))
    got = _sum_of_multinomials(n, p, np.random.default_rng(7))
    np.testing.assert_array_equal(got, np.random.default_rng(7).multinomial(n, p).sum(axis=1))
    assert got.min() >= 0


def test_mixed_rows_use_each_path_and_stay_within_the_possible_counts():
    rng = np.random.default_rng(15)
    n = np.concatenate([np.full((1_000, 5), 40), np.full((1_000, 5), 40_000)])
    p = rng.uniform(0.2, 0.8, (2_000, 5))
    got = _sum_of_binomials(n, p, rng)
    assert ((got >= 0) & (got <= n.sum(axis=1, keepdims=True))).all()
    mean = (n * p).sum(axis=1)
    sd = np.sqrt((n * p * (1 - p)).sum(axis=1))
    z = (got[:, 0] - mean) / sd
    assert abs(z.mean()) < 0.1
    assert z.std() == pytest.approx(1.0, abs=0.08)


# ---------------------------------------------------------------------------
# The honest terms of Priors: off by default, each doing what its docstring says
# ---------------------------------------------------------------------------

TWO_TYPES = (
    "batch_type,Ann,Bob,outstanding_late_mail\n"
    "early_mail,5200,4800,\nearly_mail,10300,9700,\nvote_center,15600,14400,8000\n"
)


def _count(text=TWO_TYPES):
    return csv_count(text)


def _fit(priors=None, remaining=None):
    count = _count()
    remaining = remaining if remaining is not None else {"vote_center": 8000.0, "late_mail": 8000.0}
    data = build_model_data(count, ("early_mail", "vote_center", "late_mail"), remaining, priors)
    return count, data, fit_fast(data, draws=2000, rng=np.random.default_rng(0))


def test_terms_left_off_change_nothing():
    count = _count()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        a = racecast.forecast(count, seed=4, draws=300, priors=racecast.Priors.model_only())
        b = racecast.forecast(count, seed=4, draws=300, priors=racecast.Priors.model_only(remainder_sd=None))
    assert np.array_equal(a.final_draws, b.final_draws)


def test_revisions_have_the_documented_sd_and_keep_totals_whole_and_non_negative():
    counted = np.array([1_000_000, 400])
    final = np.tile(counted, (20_000, 1))
    priors = racecast.Priors.model_only(revision_rel=0.001, revision_abs=1.0)
    got = revise(final, counted, priors, np.random.default_rng(1))
    sd = 0.001 * counted + np.sqrt(counted)
    assert got.dtype == np.int64
    assert (got >= 0).all()
    np.testing.assert_allclose(got.std(axis=0), sd, rtol=0.03)
    assert np.array_equal(
        revise(final, counted, racecast.Priors.model_only(), np.random.default_rng(1)), final
    )


def test_a_near_tie_reported_complete_stays_near_even_with_revisions():
    count = _count("batch_type,Ann,Bob\nearly_mail,5006,4994\n")
    priors = racecast.Priors.model_only(revision_rel=0.002, revision_abs=0.5)
    fc = racecast.forecast(count, seed=2, draws=2000, remaining={}, priors=priors)
    # each total's sd 0.002 * 5,000 + 0.5 * sqrt(5,000) = 45, the margin's 64: P(Ann) = Phi(12 / 64) = 0.57
    assert 0.5 < fc.win_probability["Ann"] < 0.65
    assert racecast.forecast(count, seed=2, draws=200, remaining={}).win_probability["Ann"] == 1.0


def test_an_unseen_type_lean_is_widened_by_the_floor_and_student_t():
    _, data, post = _fit()
    t = data.types.index("late_mail")
    base = post.alpha[:, t] - post.mu
    floor = racecast.Priors.model_only(unseen_type_floor=0.3)
    alpha, _ = type_lean(dataclasses.replace(data, priors=floor), post, t, np.random.default_rng(3))
    ratio = np.sqrt(post.sigma_type**2 + 0.3**2) / post.sigma_type
    np.testing.assert_allclose(alpha - post.mu, base * ratio[:, None])
    t4 = racecast.Priors.model_only(unseen_type_df=4)
    alpha, _ = type_lean(dataclasses.replace(data, priors=t4), post, t, np.random.default_rng(3))
    w2 = ((alpha - post.mu) / base)[:, 0] ** 2  # df / chi2_df, one per draw
    assert np.median(w2) == pytest.approx(4 / stats.chi2.median(4), rel=0.08)
    counted_t = data.types.index("early_mail")  # a counted type is untouched
    a2, _ = type_lean(dataclasses.replace(data, priors=t4), post, counted_t, np.random.default_rng(3))
    assert np.array_equal(a2, post.alpha[:, counted_t])


def test_the_remainder_shift_does_not_shrink_with_what_is_left_typed_or_lumped():
    """Typed types shift by ``remainder_sd``, lumped ones by ``untyped_remainder_sd``, whatever f_t is."""
    _, data, post = _fit()
    pr = racecast.Priors.model_only(remainder_sd=0.05, untyped_remainder_sd=0.2)
    t = data.types.index("vote_center")
    lumped = tuple("mixed" if name == "vote_center" else name for name in data.types)
    for left in (8000.0, 100.0):  # f = 8/18, then 1/101
        hint = data.remaining_votes_hint.copy()
        hint[t] = left
        for types, sd in ((data.types, 0.05), (lumped, 0.2)):
            d = dataclasses.replace(data, priors=pr, types=types, remaining_votes_hint=hint)
            alpha, _ = type_lean(d, post, t, np.random.default_rng(4))
            assert (alpha - post.alpha[:, t])[:, 0].std() == pytest.approx(sd, rel=0.05), (left, sd)


def test_a_lumped_type_counted_in_one_batch_leaves_a_remainder_of_a_new_kind():
    """One batch of a ``mixed`` type: its rest deviates like an unseen type; from two batches, the shift."""
    _, data, post = _fit()
    pr = racecast.Priors.model_only(untyped_remainder_sd=0.1, unseen_type_floor=0.3)
    single = data.types.index("vote_center")  # one counted batch
    double = data.types.index("early_mail")  # two
    lumped = tuple("mixed" if name in ("vote_center", "early_mail") else name for name in data.types)
    d = dataclasses.replace(data, priors=pr, types=lumped)
    alpha, delta = type_lean(d, post, single, np.random.default_rng(6))
    z = (alpha - post.alpha[:, single]) / np.sqrt(post.sigma_type**2 + 0.3**2)[:, None]
    assert z.mean() == pytest.approx(0.0, abs=0.05)
    assert z.std() == pytest.approx(1.0, rel=0.04)
    assert np.array_equal(delta, post.delta[:, single])
    alpha, _ = type_lean(d, post, double, np.random.default_rng(6))
    assert (alpha - post.alpha[:, double]).std() == pytest.approx(0.1, rel=0.05)
    typed = dataclasses.replace(data, priors=pr)  # a typed type counted once keeps its (here no) shift
    alpha, _ = type_lean(typed, post, single, np.random.default_rng(6))
    assert np.array_equal(alpha, post.alpha[:, single])


def test_one_snapshot_of_running_totals_is_not_called_but_agreeing_releases_are():
    """The NYT 2020 failure: a lead in the first lumped snapshot says nothing of how the rest leans."""
    one = "batch_type,Ann,Bob,outstanding_mixed\nmixed,530000,470000,500000\n"
    three = (
        "batch_type,Ann,Bob,outstanding_mixed\n"
        "mixed,176000,157000,\nmixed,353000,313000,\nmixed,530000,470000,500000\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        first = racecast.forecast(csv_count(one), seed=1, draws=4000)
        later = racecast.forecast(csv_count(three), seed=1, draws=4000)
        before = racecast.forecast(csv_count(one), seed=1, draws=4000, priors=racecast.Priors.model_only())
    assert first.win_probability["Ann"] < min(0.8, before.win_probability["Ann"] - 0.1)
    assert later.win_probability["Ann"] > 0.95


def test_a_stale_estimate_is_widened_by_published_over_left_up_to_the_cap():
    pr = racecast.Priors.model_only()
    fresh = RemainingSpec({"x": 1000.0}, "votes", 0.1)
    stale = RemainingSpec({"x": 1000.0}, "votes", 0.1, published={"x": 3000.0})
    a = np.log(outstanding_factor(fresh, "x", pr, 50_000, np.random.default_rng(5)))
    b = np.log(outstanding_factor(stale, "x", pr, 50_000, np.random.default_rng(5)))
    assert b.std() / a.std() == pytest.approx(np.sqrt(np.log1p(0.3**2) / np.log1p(0.1**2)), rel=0.02)
    t4 = outstanding_factor(
        fresh, "x", racecast.Priors.model_only(outstanding_df=4), 50_000, np.random.default_rng(5)
    )
    assert (np.abs(np.log(t4)) > 0.4).mean() > 3 * (np.abs(a) > 0.4).mean()  # heavier tails
    assert t4.max() <= 10.0 + 1e-9
