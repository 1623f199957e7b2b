"""The fast engine: exact Gaussian integration and an adaptive grid over the two scales.

Imports nothing beyond numpy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .data import ModelData, Posterior
from .gaussian import _BlockResult, _draw_gaussian, _place_shift, _rate_block, _share_block, _shares_from_beta

__all__ = ["fit_fast", "scale_log_likelihood"]


def _halfnormal_logpdf(x: np.ndarray, scale: float) -> np.ndarray:
    return -0.5 * (x / scale) ** 2


def _grid_posterior(
    loglik_fn: Callable[[np.ndarray, np.ndarray, bool], _BlockResult],
    scale_a: float,
    scale_b: float,
    n_coarse: int = 10,
    n_fine: int = 14,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, _BlockResult]:
    """Adaptive 2-D grid over two half-normal scales, in log space.

    Returns the fine grid's ``(a, b)`` values, normalised weights and the
    per-point results of ``loglik_fn``.  Grid cells carry prior x likelihood x
    cell volume (uniform in log scale, so the Jacobian ``sigma`` enters).
    """

    def evaluate(
        la: np.ndarray, lb: np.ndarray, posterior: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, _BlockResult]:
        aa, bb = np.meshgrid(np.exp(la), np.exp(lb), indexing="ij")
        a, b = aa.ravel(), bb.ravel()
        res = loglik_fn(a, b, posterior)
        logw = (
            res[0] + _halfnormal_logpdf(a, scale_a) + _halfnormal_logpdf(b, scale_b) + np.log(a) + np.log(b)
        )
        return a, b, logw, res

    la = np.linspace(np.log(scale_a * 0.01), np.log(scale_a * 4.0), n_coarse)
    lb = np.linspace(np.log(scale_b * 0.01), np.log(scale_b * 10.0), n_coarse)
    a, b, logw, _ = evaluate(la, lb, False)
    w = np.exp(logw - logw.max())
    keep = w > 1e-6 * w.max()
    ka, kb = np.log(a[keep]), np.log(b[keep])
    step_a, step_b = la[1] - la[0], lb[1] - lb[0]
    la = np.linspace(ka.min() - step_a, ka.max() + step_a, n_fine)
    lb = np.linspace(kb.min() - step_b, kb.max() + step_b, n_fine)
    a, b, logw, res = evaluate(la, lb, True)
    w = np.exp(logw - logw.max())
    return a, b, w / w.sum(), res


def _fit_block(
    block: Callable[[ModelData, np.ndarray, np.ndarray, bool], _BlockResult],
    data: ModelData,
    scale_type: float,
    scale_batch: float,
    draws: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One Gaussian block on its grid: the grid's scales and weights, the picked points and their draws.

    The fine grid's conditional means and precision factors are exactly those of
    the picked scale pairs, so the conditional draws reuse them.
    """
    sig_t, sig_b, w, (_, mean, cov_sqrt) = _grid_posterior(
        lambda st, sb, posterior: block(data, st, sb, posterior), scale_type, scale_batch
    )
    assert mean is not None
    assert cov_sqrt is not None
    pick = rng.choice(w.size, size=draws, p=w)
    return sig_t, sig_b, w, pick, _draw_gaussian(mean, cov_sqrt, pick, rng)


def fit_fast(data: ModelData, *, draws: int, rng: np.random.Generator) -> Posterior:
    """Fit the model with the fast engine.

    Given the two scales ``(sigma_type, sigma_batch)`` the model is linear and
    Gaussian in ``(mu, alpha - mu, delta)``, so their posterior and the marginal
    likelihood of the scales are exact; the scales are integrated on an adaptive
    2-D grid (coarse pass to find the mass, fine pass over it).  The turnout block
    is fitted the same way on its own grid.  The only approximation beyond the
    model itself is the grid.
    """
    pr = data.priors
    d = data.n_candidates - 1
    sig_t, sig_b, w, pick, beta = _fit_block(_share_block, data, pr.type_sd, pr.batch_sd, draws, rng)
    beta = beta.reshape(draws, -1, d)
    mu, alpha, delta = _shares_from_beta(data, beta)
    rho = rate_sb = None
    diag: dict[str, Any] = {
        "engine": "fast",
        "grid_points": int(w.size),
        "grid_effective_points": float(1.0 / (w**2).sum()),
    }
    if data.has_rate:
        _, r_sb, r_w, r_pick, rb = _fit_block(
            _rate_block, data, pr.rate_type_sd, pr.rate_batch_sd, draws, rng
        )
        rho = rb[:, :1] + rb[:, 1:]
        rate_sb = r_sb[r_pick]
        diag["rate_grid_effective_points"] = float(1.0 / (r_w**2).sum())
    return Posterior(
        alpha=alpha,
        delta=delta,
        sigma_batch=sig_b[pick],
        sigma_type=sig_t[pick],
        mu=mu,
        rho=rho,
        rate_sigma_batch=rate_sb,
        engine="fast",
        diagnostics=diag,
        place_shift=_place_shift(data, beta, rng),
    )


def scale_log_likelihood(
    data: ModelData, sigma_type: np.ndarray, sigma_batch: np.ndarray, *, rate: bool = False
) -> np.ndarray:
    """Log marginal likelihood of the counted batches at each pair of scales.

    The share block's ``(sigma_type, sigma_batch)`` (or, with ``rate=True``, the
    turnout block's): the exact Gaussian integral over the contest mean, type leans
    and drifts, without any prior on the scales themselves.  Shapes broadcast like
    the two arrays; what the fast engine weighs its grid by, before the prior.
    """
    a, b = np.broadcast_arrays(np.asarray(sigma_type, float), np.asarray(sigma_batch, float))
    block = _rate_block if rate else _share_block
    return block(data, a.ravel(), b.ravel(), False)[0].reshape(a.shape)
