"""The wander of a type's lean: a local level learned from the count's own batches.

``racecast.wander`` fits a Brownian-motion lean along each counted type (Kalman
filter over a grid of scales) and shifts the remainder by what it adds to the
model's straight line.  These tests hold the filter to the dense Gaussian algebra it
replaces, and the term to what a user relies on: a count whose batches scatter
around a straight line is left (nearly) alone; a count whose lean wanders is not
called on the straight line.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

import racecast
from racecast.wander import remainder_conditionals

NAMES = ["A", "B"]


def _dense(y, var, x, x_future, mu_sd, drift_sd, sigma_b, tau):
    """The same quantities from the full covariance of the counted batches and the remainder's mean."""
    n = y.size
    s, sf = x + 0.5, x_future + 0.5
    cov = 2.0 * (
        mu_sd**2 + drift_sd**2 * np.outer(x, x) + tau**2 * np.minimum.outer(s, s) + sigma_b**2 * np.eye(n)
    )
    cov += np.diag(var)
    k_my = 2.0 * (
        mu_sd**2 + drift_sd**2 * x_future.mean() * x + tau**2 * np.minimum.outer(sf, s).mean(axis=0)
    )
    k_mm = 2.0 * (mu_sd**2 + drift_sd**2 * x_future.mean() ** 2 + tau**2 * np.minimum.outer(sf, sf).mean())
    inv = np.linalg.inv(cov)
    _, logdet = np.linalg.slogdet(cov)
    loglik = -0.5 * (y @ inv @ y + logdet + n * np.log(2 * np.pi))
    return loglik, k_my @ inv @ y, k_mm - k_my @ inv @ k_my


def test_the_kalman_filter_is_the_dense_gaussian_algebra():
    rng = np.random.default_rng(3)
    n = 9
    x = np.sort(rng.uniform(-0.5, 0.1, n))
    x_future = np.linspace(0.15, 0.48, 6)
    y = 0.2 + np.cumsum(rng.normal(0, 0.1, n))
    var = rng.uniform(1e-4, 4e-3, n)
    sigma_b = np.array([0.01, 0.1, 0.3])
    tau = np.array([0.0, 0.05, 0.4, 1.2])
    ll, mean, variance = remainder_conditionals(
        y, var, x, x_future, mu_sd=1.5, drift_sd=0.2, sigma_b=sigma_b, tau=tau
    )
    for i, sb in enumerate(sigma_b):
        for j, t in enumerate(tau):
            want = _dense(y, var, x, x_future, 1.5, 0.2, sb, t)
            np.testing.assert_allclose([ll[i, j], mean[i, j], variance[i, j]], want, rtol=1e-7, atol=1e-9)


def _count(
    leans: np.ndarray, sizes: np.ndarray, cut: int, rng: np.random.Generator
) -> tuple[racecast.Count, float]:
    """One vote type counted batch by batch; the count cut after ``cut`` batches, and A's true final share."""
    a = rng.binomial(sizes, 1.0 / (1.0 + np.exp(-leans)))
    votes = np.stack([a, sizes - a], axis=1)
    cum = np.cumsum(votes[:cut], axis=0)
    frame = pd.DataFrame(
        {"release": np.arange(1, cut + 1), "batch_type": "late_mail", "A": cum[:, 0], "B": cum[:, 1]}
    )
    tidy = frame.melt(
        id_vars=["release", "batch_type"], value_vars=NAMES, var_name="candidate", value_name="votes"
    )
    left = float(sizes[cut:].sum())
    count = racecast.Count.from_frame(tidy, outstanding={"late_mail": left}, name="<wander>")
    return count, float(votes[:, 0].sum() / votes.sum())


def _interval(count: racecast.Count, wander_sd: float | None) -> tuple[float, float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        fc = racecast.forecast(
            count, seed=4, draws=2000, engine="fast", priors=racecast.Priors(wander_sd=wander_sd)
        )
    lower, upper = fc.final_share.loc["A", ["lower", "upper"]]
    return float(lower), float(upper), float(fc.win_probability["A"])


def _tau_posterior_mean(count: racecast.Count, left: float, wander_sd: float) -> float:
    """Posterior mean of ``tau`` on the grid ``wander_shift`` draws from, for the count's one type."""
    from racecast.model import build_model_data
    from racecast.simulate import batch_plan
    from racecast.wander import BATCH_GRID, TAU_GRID, _half_normal_quantiles, _pair_obs

    priors = racecast.Priors(wander_sd=wander_sd)
    data = build_model_data(count, ("late_mail",), {"late_mail": left}, priors)
    y, var = _pair_obs(data, np.arange(data.y.shape[0]), (0, 1))
    tau = _half_normal_quantiles(wander_sd, TAU_GRID)
    loglik, _, _ = remainder_conditionals(
        y,
        var,
        data.x,
        batch_plan(data, 0)[1],
        mu_sd=1.5,
        drift_sd=0.2,
        sigma_b=_half_normal_quantiles(0.2, BATCH_GRID),
        tau=tau,
    )
    weight = np.exp(loglik - loglik.max()).sum(axis=0)
    return float(weight @ tau / weight.sum())


def test_batches_around_a_line_keep_the_wander_small_and_a_walk_does_not():
    """Five times the same batch sizes and noise: a straight line (with the model drift) or a random walk."""
    rng = np.random.default_rng(1)
    prior_mean = 0.3 * np.sqrt(2 / np.pi)
    on_line, on_walk = [], []
    for _ in range(5):
        sizes = rng.integers(4_000, 9_000, 60)
        left = float(sizes[30:].sum())
        line, _ = _count(0.1 + 0.2 * np.linspace(-0.5, 0.5, 60) + rng.normal(0.0, 0.05, 60), sizes, 30, rng)
        walk, _ = _count(0.1 + np.cumsum(rng.normal(0.0, 0.06, 60)), sizes, 30, rng)  # tau ~ 0.33
        on_line.append(_tau_posterior_mean(line, left, 0.3))
        on_walk.append(_tau_posterior_mean(walk, left, 0.3))
    assert max(on_line) < 0.6 * prior_mean, on_line
    assert np.mean(on_walk) > 2 * np.mean(on_line), (on_line, on_walk)


def test_a_wandering_lean_widens_the_interval_and_a_line_barely_does():
    """The walk's interval is much wider than the straight line's forecast; the line's barely moves."""
    rng = np.random.default_rng(8)
    sizes = rng.integers(4_000, 9_000, 60)
    walk, _ = _count(0.1 + np.cumsum(rng.normal(0.0, 0.06, 60)), sizes, 30, rng)
    line, _ = _count(0.1 + rng.normal(0.0, 0.05, 60), sizes, 30, rng)

    def width(count: racecast.Count, wander_sd: float | None) -> float:
        lower, upper, _ = _interval(count, wander_sd)
        return upper - lower

    assert width(walk, 0.3) > 1.5 * width(walk, None)
    assert width(line, 0.3) / width(line, None) < width(walk, 0.3) / width(walk, None)
