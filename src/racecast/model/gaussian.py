"""Gaussian algebra of the model: given its two scales it is linear and Gaussian.

Given ``(sigma_type, sigma_batch)`` the contest mean, the type leans and the drifts
have an exact normal posterior, and the scales an exact marginal likelihood
(``_gaussian_block``).  Both engines use it: the fast engine to weigh its grid of
scales, both to draw the leans and drifts given drawn scales.  numpy only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .data import ModelData, _alr_to_scores, _prior_covered, _prior_mean, _share_y
from .place import remainder_mix

#: Log marginal likelihood per scale setting, and (unless only that was asked for)
#: the posterior means and square roots of the posterior covariances.
_BlockResult = tuple[np.ndarray, np.ndarray | None, np.ndarray | None]


def batch_variance_scale(data: ModelData) -> np.ndarray:
    """``(n,)`` each counted batch's multiple of ``sigma_batch^2``: ``data.batch_scale``, or ones.

    The one place that reads ``ModelData.batch_scale`` (batch size within a place,
    ``racecast.model.batch_size``) for the engines and the wander filter.
    """
    n = data.y.shape[0]
    return np.ones(n) if data.batch_scale is None else np.asarray(data.batch_scale, float)


def _corr(d: int) -> np.ndarray:
    return np.eye(d) + np.ones((d, d))


def _design_matrix(design: list[tuple[np.ndarray, np.ndarray]], n: int, n_blocks: int) -> np.ndarray:
    """``(n, C)`` weights of each observation on each block (terms on one block add up)."""
    w = np.zeros((n, n_blocks))
    rows = np.arange(n)
    for blocks, weights in design:
        np.add.at(w, (rows, blocks), weights)
    return w


def _observation_terms(
    y: np.ndarray,
    noise: np.ndarray,
    w: np.ndarray,
    extra_var: np.ndarray,
    corr: np.ndarray,
    extra_scale: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``log|R|``, ``X^T R^-1 X``, ``X^T R^-1 y`` and ``y^T R^-1 y`` per batch variance (``(G,)``).

    ``R_i = extra_var * extra_scale_i * corr + noise_i`` is each observation's covariance.
    """
    n, d = y.shape
    g_count, n_blocks = extra_var.size, w.shape[1]
    if d == 1:
        r = extra_var[:, None] * (extra_scale * corr[0, 0])[None, :] + noise[None, :, 0, 0]  # (G, n)
        r_inv = 1.0 / r
        logdet_r = np.log(r).sum(axis=-1)
        riy = r_inv * y[None, :, 0]  # (G, n)
        # X^T R^-1 X = W^T diag(r_inv) W and X^T R^-1 y = W^T (r_inv * y)
        q = (w.T[None] * r_inv[:, None, :]) @ w
        return logdet_r, q, riy @ w, riy @ y[:, 0]
    p = n_blocks * d
    r = extra_var[:, None, None, None] * (extra_scale[:, None, None] * corr[None])[None] + noise[None]
    r_chol = np.linalg.cholesky(r)
    r_inv = np.linalg.inv(r)
    logdet_r = 2.0 * np.log(np.diagonal(r_chol, axis1=-2, axis2=-1)).sum(axis=(-1, -2))
    riy = np.einsum("gnde,ne->gnd", r_inv, y)
    # sum_i (w_i w_i^T) kron R_i^-1, as one matrix product over observations
    ww = (w[:, :, None] * w[:, None, :]).reshape(n, n_blocks * n_blocks)
    q = np.matmul(ww.T[None], r_inv.reshape(g_count, n, d * d))  # (G, C*C, d*d)
    q = q.reshape(g_count, n_blocks, n_blocks, d, d).transpose(0, 1, 3, 2, 4).reshape(g_count, p, p)
    b = np.einsum("ic,gid->gcd", w, riy).reshape(g_count, p)
    yry = np.einsum("nd,gnd->g", y, riy)
    return logdet_r, q, b, yry


#: Blocks up to which a two-candidate block's observation terms are computed per setting; beyond
#: (a count with many places) once per distinct batch variance, as for more candidates.
_FEW_BLOCKS = 16


def _gaussian_block(
    y: np.ndarray,
    noise: np.ndarray,
    design: list[tuple[np.ndarray, np.ndarray]],
    prior_scales: np.ndarray,
    extra_var: np.ndarray,
    corr: np.ndarray,
    posterior: bool = True,
    extra_scale: np.ndarray | None = None,
) -> _BlockResult:
    """Log marginal likelihood, posterior mean and a square root of the posterior covariance.

    The square root is ``L^-T`` for ``L`` the Cholesky factor of the posterior
    precision (so ``mean + L^-T z`` is a posterior draw).  With
    ``posterior=False`` only the log marginal likelihood is computed (mean and
    square root are ``None``): the grid's coarse pass needs nothing else.

    Model: ``y_i = sum_j w_ij beta_{c_ij} + e_i`` with ``beta_c ~ N(0, s_c^2 corr)``
    independent blocks of dimension D, ``e_i ~ N(0, extra_var * extra_scale_i * corr + noise_i)``.
    Vectorised over G settings of ``(prior_scales[g], extra_var[g])``; the
    observation terms depend on ``extra_var`` only, so they are computed once per
    distinct value (a grid has few: one per row of the grid) when ``D > 1``.

    Parameters
    ----------
    design
        For each observation term: ``(block_index_array (n,), weight_array (n,))``.
    prior_scales
        ``(G, C)`` prior sd of each block.
    extra_var
        ``(G,)`` batch variance.
    extra_scale
        ``(n,)`` each observation's multiple of it (``ModelData.batch_scale``: batch
        size within a place); ones when ``None``.
    """
    n, d = y.shape
    g_count, n_blocks = prior_scales.shape
    w = _design_matrix(design, n, n_blocks)
    scale = np.ones(n) if extra_scale is None else np.asarray(extra_scale, float)
    if d == 1 and n_blocks <= _FEW_BLOCKS:  # cheap: its products over the settings are not split
        logdet_r, q, b, yry = _observation_terms(y, noise, w, extra_var, corr, scale)
    else:
        distinct, which = np.unique(extra_var, return_inverse=True)
        terms = _observation_terms(y, noise, w, distinct, corr, scale)
        logdet_r, q, b, yry = (t[np.asarray(which).ravel()] for t in terms)
    corr_inv = np.linalg.inv(corr)
    _, corr_logdet = np.linalg.slogdet(corr)
    # block-diagonal prior precision: blocks of corr^-1 / s_c^2
    diag_idx = np.arange(n_blocks)
    q = np.ascontiguousarray(q)
    q4 = q.reshape(g_count, n_blocks, d, n_blocks, d)
    q4[:, diag_idx, :, diag_idx, :] += corr_inv[None, None] / prior_scales.T[:, :, None, None] ** 2
    logdet_prior = (2.0 * d * np.log(prior_scales)).sum(axis=1) + n_blocks * corr_logdet
    q_chol = np.linalg.cholesky(q)
    logdet_q = 2.0 * np.log(np.diagonal(q_chol, axis1=-2, axis2=-1)).sum(axis=-1)
    const = yry + logdet_r + logdet_prior + logdet_q + n * d * np.log(2 * np.pi)
    if not posterior:
        # b^T Q^-1 b from a batched solve against the Cholesky factor
        tmp = np.linalg.solve(q_chol, b[..., None])[..., 0]  # L^-1 b
        return -0.5 * (const - (tmp**2).sum(axis=-1)), None, None
    # posterior covariance Q^-1 = L^-T L^-1: one inversion serves the mean and the draws
    chol_inv_t = np.swapaxes(np.linalg.inv(q_chol), -1, -2)
    tmp = np.matmul(b[:, None, :], chol_inv_t)[:, 0]  # L^-1 b
    mean = np.matmul(chol_inv_t, tmp[..., None])[..., 0]
    return -0.5 * (const - (tmp**2).sum(axis=-1)), mean, chol_inv_t


def _share_design(data: ModelData) -> list[tuple[np.ndarray, np.ndarray]]:
    """Blocks: 0 = mu, 1..T = alpha_t - mu, T+1..2T = delta_t, then one per place (``u_p``)."""
    n = data.y.shape[0]
    ones = np.ones(n)
    t_n = data.n_types
    design = [(np.zeros(n, np.int64), ones), (1 + data.type_idx, ones), (1 + t_n + data.type_idx, data.x)]
    if data.place_loading is not None:  # a batch loads on its place, or on the count's mix of places
        design += [(np.full(n, 1 + 2 * t_n + p), col) for p, col in enumerate(data.place_loading.T)]
    return design


def _share_scales(data: ModelData, sig_t: np.ndarray) -> np.ndarray:
    pr, t_n = data.priors, data.n_types
    n_places = 0 if data.place_loading is None else data.place_loading.shape[1]
    scales = np.empty((sig_t.size, 1 + 2 * t_n + n_places))
    scales[:, 0] = pr.mu_sd
    scales[:, 1 : 1 + t_n] = sig_t[:, None]
    scales[:, 1 + t_n : 1 + 2 * t_n] = pr.drift_sd
    scales[:, 1 + 2 * t_n :] = pr.place_sd
    covered = _prior_covered(data)
    if covered.any():  # a prior from history fixes these types' scale (no longer sigma_type)
        assert data.prior_sd is not None
        scales[:, 1 + np.flatnonzero(covered)] = data.prior_sd[covered][None, :]
    return scales


def _rate_design(data: ModelData) -> list[tuple[np.ndarray, np.ndarray]]:
    """Blocks: 0 = rho0, 1..T = rho_t - rho0 (spans of mixed types load on rho0 only)."""
    m = data.rate_y.size
    known = data.rate_type_idx >= 0
    return [
        (np.zeros(m, np.int64), np.ones(m)),
        (1 + np.where(known, data.rate_type_idx, 0), known.astype(float)),
    ]


def _rate_scales(data: ModelData, sig_t: np.ndarray) -> np.ndarray:
    scales = np.empty((sig_t.size, 1 + data.n_types))
    scales[:, 0] = data.priors.rate_mu_sd
    scales[:, 1:] = sig_t[:, None]
    return scales


#: Block size from which draws multiply each distinct setting's factor in turn (see ``_draw_gaussian``).
_GROUP_DRAWS_FROM = 32


def _draw_gaussian(
    mean: np.ndarray, cov_sqrt: np.ndarray, pick: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draws ``mean[pick] + cov_sqrt[pick] z``: one Gaussian draw per entry of ``pick``.

    ``mean`` and ``cov_sqrt`` (from ``_gaussian_block``) are per scale setting.
    """
    z = rng.standard_normal((pick.size, mean.shape[-1]))
    if mean.shape[-1] < _GROUP_DRAWS_FROM:
        return mean[pick] + np.matmul(cov_sqrt[pick], z[:, :, None])[:, :, 0]
    # large blocks: one product per distinct setting instead of a (draws, P, P) copy of the factors
    # (the same matrix-vector products, so the same numbers)
    out = mean[pick]
    order = np.argsort(pick, kind="stable")
    settings, starts = np.unique(pick[order], return_index=True)
    for g, rows in zip(settings, np.split(order, starts[1:]), strict=True):
        out[rows] += np.matmul(cov_sqrt[g], z[rows, :, None])[:, :, 0]
    return out


def _unique_pairs(sig_t: np.ndarray, sig_b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct ``(sig_t, sig_b)`` pairs and, per draw, the index of its pair."""
    _, first, inverse = np.unique(sig_t + 1j * sig_b, return_index=True, return_inverse=True)
    return sig_t[first], sig_b[first], np.asarray(inverse).ravel()


def _shares_from_beta(data: ModelData, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Block draws ``(S, 1 + 2T [+ P], D)`` -> zero-sum scores of ``mu, alpha, delta``."""
    t_n = data.n_types
    mu = beta[:, 0]
    alpha = mu[:, None, :] + beta[:, 1 : 1 + t_n] + _prior_mean(data)[None]  # prior from history, if any
    return _alr_to_scores(mu), _alr_to_scores(alpha), _alr_to_scores(beta[:, 1 + t_n : 1 + 2 * t_n])


def _place_shift(data: ModelData, beta: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """``(S, K)`` scores of the lean of what is left's mix of places; ``None`` without place effects.

    ``sum_p v_p u_p`` with ``v ~ Dirichlet(w)`` per draw (``racecast.model.place.remainder_mix``).
    """
    if data.place_weight is None:
        return None
    u = beta[:, 1 + 2 * data.n_types :]  # (S, P, D)
    mix = remainder_mix(data.place_weight, u.shape[0], rng)
    return _alr_to_scores(np.einsum("sp,spd->sd", mix, u))


def _share_block(
    data: ModelData, sig_t: np.ndarray, sig_b: np.ndarray, posterior: bool = True
) -> _BlockResult:
    d = data.n_candidates - 1
    return _gaussian_block(
        _share_y(data),
        data.noise,
        _share_design(data),
        _share_scales(data, sig_t),
        sig_b**2,
        _corr(d),
        posterior=posterior,
        extra_scale=batch_variance_scale(data),
    )


def _rate_block(
    data: ModelData, sig_t: np.ndarray, sig_b: np.ndarray, posterior: bool = True
) -> _BlockResult:
    return _gaussian_block(
        data.rate_y[:, None],
        data.rate_var[:, None, None],
        _rate_design(data),
        _rate_scales(data, sig_t),
        sig_b**2,
        np.eye(1),
        posterior=posterior,
    )


#: Scale settings factorised at once when drawing conditionals (bounds memory for many draws).
_CHUNK = 4096


def _conditional_draws(
    block: Callable[[ModelData, np.ndarray, np.ndarray], _BlockResult],
    data: ModelData,
    sig_t: np.ndarray,
    sig_b: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """One draw of a block's Gaussian parameters for each ``(sig_t, sig_b)`` draw.

    Exact: given the scales the model is linear-Gaussian in these parameters.
    Unique scale pairs are factorised once, a chunk at a time.
    """
    u_t, u_b, inverse = _unique_pairs(sig_t, sig_b)
    out = None
    for start in range(0, u_t.size, _CHUNK):
        _, mean, cov_sqrt = block(data, u_t[start : start + _CHUNK], u_b[start : start + _CHUNK])
        assert mean is not None
        assert cov_sqrt is not None
        if out is None:
            out = np.empty((sig_t.size, mean.shape[-1]))
        rows = np.flatnonzero((inverse >= start) & (inverse < start + _CHUNK))
        out[rows] = _draw_gaussian(mean, cov_sqrt, inverse[rows] - start, rng)
    assert out is not None
    return out


def _conditional_shares(
    data: ModelData, sig_t: np.ndarray, sig_b: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Draw (mu, alpha, delta) scores and the place shift given draws of (sigma_type, sigma_batch)."""
    beta = _conditional_draws(_share_block, data, sig_t, sig_b, rng)
    beta = beta.reshape(sig_t.size, -1, data.n_candidates - 1)
    return (*_shares_from_beta(data, beta), _place_shift(data, beta, rng))


def _conditional_rates(
    data: ModelData, sig_t: np.ndarray, sig_b: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draw logit contest shares of ballots by type given the rate block's scales."""
    rb = _conditional_draws(_rate_block, data, sig_t, sig_b, rng)
    return rb[:, :1] + rb[:, 1:]
