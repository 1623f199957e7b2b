"""The sum of a type's batch draws: drawn batch by batch, or from its normal when that is exact enough.

Given the batch shares, a type's added votes are a sum of independent binomials
(multinomials).  With a sampling sd of 100 votes or more the simulation draws the
sum from the normal of the same mean and covariance; these tests hold it to the
exact batch-by-batch draw, with tolerances a wrong mean or variance would fail.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from racecast.simulate import CLT_MIN_VARIANCE, _sum_of_binomials, _sum_of_multinomials

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
