"""How far a type's lean wanders along it: a local level learned from the count's own batches.

The batch-type model gives each type a lean and a straight-line drift along it
(``alpha_t + x * delta_t``), with batches scattered independently around the line.
Real counts also *wander*: precincts reported in geographic order, the mail of one
week after another's, a county's uploads one after the other.  A straight line and
independent scatter both average away over the remainder; a wandering lean does not.
Its remainder continues from where the count has got to, not from the average of
what was counted, and it keeps moving.

This module fits, per counted type and independently of the main posterior, a
local-level model of the two leading candidates' log-odds along the type::

    y_k = a + b x_k + W(s_k) + e_k,     e_k ~ N(0, 2 sigma_b^2 + v_k)

with ``s_k = x_k + 1/2`` the batch's position in the type's votes (0 = its first
ballot, 1 = its last), ``W`` a Brownian motion with ``Var W(s) = 2 tau^2 s`` (``tau``
is a per-candidate-score scale, like every scale of [`Priors`][racecast.Priors];
the ``2`` turns it into the two-way log-odds), ``a ~ N(0, 2 mu_sd^2)`` and ``b ~
N(0, 2 drift_sd^2)`` the model's own intercept and drift, ``v_k`` the batch's
binomial sampling variance, ``sigma_b ~ HalfNormal(batch_sd)`` and ``tau ~
HalfNormal(wander_sd)``.  Everything is Gaussian given ``(sigma_b, tau)``, so the
two scales get an exact grid posterior (equal-prior-mass quantiles of each
half-normal) and, at each grid point, the mean lean of the simulated remainder
(at the positions the simulation puts its batches) has an exact conditional normal.

The main model's remainder is this sub-model at ``tau = 0``.  The difference of the
two conditionals -- the shift of the mean and the extra variance -- is what the
wander adds; [`wander_shift`][racecast.wander.wander_shift] draws it per posterior
draw.  When the batches show no wander the posterior of ``tau`` stays near zero and
nothing changes; when they do, the remainder follows the level the count has
reached and keeps moving.  With one or two batches of a type the data say little
about ``tau`` and its prior speaks, so ``wander_sd`` is learned from completed real
counts ([`learn_priors`][racecast.learn_priors]).

Assumptions and edges: the wander is measured on the log-odds of the two leading
candidates (by the posterior mean of the contest scores) and given to every
candidate's score alike (independent, half the pair's variance each; the mean shift
to the pair), as the model treats batch deviations; a type with no counted batch
gets the unseen-type terms instead; ``sigma_b`` is the type's own, not the main
model's shared scale (the main model's scale has absorbed the wander it could not
explain).  The term is simulation-level: the posterior of the counted batches is
unchanged, so the fast and NUTS engines agree.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .model import ModelData, Posterior
from .model.gaussian import batch_variance_scale

__all__ = ["BATCH_GRID", "TAU_GRID", "remainder_conditionals", "wander_shift"]

#: Grid points of ``tau`` (quantiles of its half-normal prior at equal prior mass).
TAU_GRID = 12
#: Grid points of the type's own ``sigma_b``.
BATCH_GRID = 8


def _half_normal_quantiles(scale: float, n: int) -> np.ndarray:
    """``n`` quantiles of ``HalfNormal(scale)`` at the midpoints of ``n`` equal-mass cells."""
    q = (np.arange(n) + 0.5) / n
    return scale * np.sqrt(2.0) * special.erfinv(q)


def _pair(post: Posterior) -> tuple[int, int]:
    """The two leading candidates by the posterior mean of the contest scores."""
    order = np.argsort(-post.mu.mean(axis=0), kind="stable")
    return int(order[0]), int(order[1])


def _pair_obs(data: ModelData, rows: np.ndarray, pair: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Log-odds of ``pair[0]`` over ``pair[1]`` in the batches ``rows`` and their sampling variance."""
    d = data.n_candidates - 1
    weights = np.zeros(d)
    a, b = pair
    if a < d:
        weights[a] += 1.0
    if b < d:
        weights[b] -= 1.0
    y = data.y[rows] @ weights
    var = np.einsum("d,nde,e->n", weights, data.noise[rows], weights)
    return y, var


def remainder_conditionals(
    y: np.ndarray,
    var: np.ndarray,
    x: np.ndarray,
    x_future: np.ndarray,
    *,
    mu_sd: float,
    drift_sd: float,
    sigma_b: np.ndarray,
    tau: np.ndarray,
    batch_scale: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log marginal likelihood, conditional mean and variance of the remainder's mean lean.

    For every pair ``(sigma_b[i], tau[j])``: arrays of shape ``(len(sigma_b), len(tau))``.
    ``y``, ``var``, ``x`` are the counted batches of one type in count order (two-way
    log-odds, their sampling variance, drift positions in ``[-1/2, 1/2]``);
    ``x_future`` the positions of the simulated remainder's batches (equal sizes);
    ``batch_scale`` each counted batch's multiple of ``sigma_b^2`` (``ModelData.batch_scale``,
    ones when ``None``).

    A Kalman filter on the state ``(a + W(s), b)``, vectorised over the grid: ``O(n)``
    per grid point instead of the ``O(n^3)`` of the dense covariance (a count of 300
    releases has 300 batches of one type).  The remainder's mean lean is ``a + W(s_n)
    + b mean(x_future)`` plus the mean of the Brownian increments past the last counted
    batch, of variance ``2 tau^2 mean_jl min(u_j, u_l)``, ``u = s_future - s_n``.
    """
    s = x + 0.5
    scale = np.ones(y.size) if batch_scale is None else np.asarray(batch_scale, float)
    sb2, t2 = np.meshgrid(sigma_b**2, tau**2, indexing="ij")
    # state mean (level, drift) and covariance entries, per grid point
    m0 = np.zeros_like(sb2)
    m1 = np.zeros_like(sb2)
    p00 = 2.0 * (mu_sd**2 + t2 * s[0])
    p01 = np.zeros_like(sb2)
    p11 = np.full_like(sb2, 2.0 * drift_sd**2)
    loglik = np.zeros_like(sb2)
    for k in range(y.size):
        if k:
            p00 = p00 + 2.0 * t2 * max(s[k] - s[k - 1], 0.0)
        xk = x[k]
        # innovation and its variance for y_k = level + x_k drift + e_k
        ph0 = p00 + xk * p01
        ph1 = p01 + xk * p11
        total = ph0 + xk * ph1 + 2.0 * sb2 * scale[k] + var[k]
        resid = y[k] - m0 - xk * m1
        loglik -= 0.5 * (np.log(2.0 * np.pi * total) + resid**2 / total)
        g0, g1 = ph0 / total, ph1 / total
        m0 = m0 + g0 * resid
        m1 = m1 + g1 * resid
        p00 = p00 - g0 * ph0
        p01 = p01 - g0 * ph1
        p11 = p11 - g1 * ph1
    xf = float(x_future.mean())
    u = np.maximum(x_future + 0.5 - s[-1], 0.0)
    ahead = float(np.minimum.outer(u, u).mean())
    mean = m0 + xf * m1
    variance = p00 + 2.0 * xf * p01 + xf**2 * p11 + 2.0 * t2 * ahead
    return loglik, mean, np.maximum(variance, 0.0)


def wander_shift(
    data: ModelData, post: Posterior, t: int, x_future: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """``(S, K)`` scores added to the lean of what is left of type ``t`` by its wander.

    Zero (and no random number drawn) when ``Priors.wander_sd`` is off or the type has
    no counted batch.  Otherwise one grid point ``(sigma_b, tau)`` per posterior draw
    from the grid posterior, and the pair's shift ``mean_g - mean_0 + sqrt(var_g - var_0)
    z``, where ``mean_0`` and ``var_0`` are the remainder's mean and variance without
    wander (``tau = 0``, mixed over its own posterior of ``sigma_b``: what the main model
    already draws): half the mean to the leader's score, minus half to the runner-up's,
    and independent normals of half the variance to every candidate's score (a grid
    point less uncertain than the model without wander adds no variance).
    """
    pr = data.priors
    s_draws, k = post.alpha.shape[0], data.n_candidates
    rows = np.flatnonzero(data.type_idx == t)
    if not pr.wander_sd or rows.size == 0 or x_future.size == 0:
        return np.zeros((s_draws, k))
    pair = _pair(post)
    y, var = _pair_obs(data, rows, pair)
    sigma_b = _half_normal_quantiles(pr.batch_sd, BATCH_GRID)
    tau = np.concatenate([[0.0], _half_normal_quantiles(pr.wander_sd, TAU_GRID)])
    loglik, mean, variance = remainder_conditionals(
        y,
        var,
        data.x[rows],
        x_future,
        mu_sd=pr.mu_sd,
        drift_sd=pr.drift_sd,
        sigma_b=sigma_b,
        tau=tau,
        batch_scale=batch_variance_scale(data)[rows],
    )
    # the model without wander (tau = 0), over its own posterior of sigma_b: its mean and variance
    w0 = np.exp(loglik[:, 0] - loglik[:, 0].max())
    w0 /= w0.sum()
    mean_0 = float(w0 @ mean[:, 0])
    var_0 = float(w0 @ (variance[:, 0] + mean[:, 0] ** 2)) - mean_0**2
    logw = loglik[:, 1:].ravel()
    weight = np.exp(logw - logw.max())
    pick = rng.choice(weight.size, size=s_draws, p=weight / weight.sum())
    mean_shift = mean[:, 1:].ravel()[pick] - mean_0
    sd = np.sqrt(np.maximum(variance[:, 1:].ravel()[pick] - var_0, 0.0) / 2.0)
    out = sd[:, None] * rng.standard_normal((s_draws, k))
    out[:, pair[0]] += 0.5 * mean_shift
    out[:, pair[1]] -= 0.5 * mean_shift
    return out
