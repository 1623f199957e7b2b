"""Compiled log density of the collapsed model, for NUTS.

NUTS samples the batch-type model collapsed over its Gaussian parameters (the PyMC
model ``racecast.model.nuts._pymc_model`` is its reference definition): for each block
(vote shares, and turnout when reported) the data ``y`` (length ``N``) is

    y ~ Normal(0, F + a^2 B + b^2 C)

with ``a`` the between-type scale, ``b`` the between-batch scale, ``F`` the
known part, ``B = R G G' R'`` the same-type links and ``C = R R'`` the batch
covariance.  In the basis where ``R^-1 F R^-T = U diag(lam) U'`` (computed once
per count by ``racecast.model.collapsed._scale_block``) the covariance is
``U (diag(lam + b^2) + a^2 g g') U'`` with ``g = U' G``, so Woodbury's identity
and the matrix determinant lemma give the log density and its gradient in
``O(N P^2)`` for ``P = G.shape[1]`` (types x candidates-1) instead of ``O(N^3)``.

This module imports numba; only [`fit_nuts`][racecast.model.fit_nuts] imports it.
The kernel is compiled once per installation and cached on disk
(``cache=True``); it takes arrays of any length, so one compiled kernel serves
every count, every release and every contest.
"""

from __future__ import annotations

import numba
import numpy as np

from .collapsed import _SCALE_NAMES, _collapsed_matrices, _scale_block
from .data import ModelData, _prior_covered
from .gaussian import _corr, batch_variance_scale

_HALF_LOG_2_OVER_PI = 0.5 * np.log(2.0 / np.pi)


@numba.njit(cache=True, nogil=True)
def _inverse_of_identity_plus(  # pragma: no cover - jitted
    a2: float, h: np.ndarray, logdet: float
) -> tuple[float, np.ndarray]:
    """``(logdet + log|m|, m^-1)`` for ``m = I + a2 h`` (symmetric positive definite), by Cholesky."""
    p = h.shape[0]
    chol = np.zeros((p, p))
    for j in range(p):
        s = 1.0 + a2 * h[j, j]
        for k in range(j):
            s -= chol[j, k] * chol[j, k]
        chol[j, j] = np.sqrt(s)
        logdet += 2.0 * np.log(chol[j, j])
        for i in range(j + 1, p):
            s = a2 * h[i, j]
            for k in range(j):
                s -= chol[i, k] * chol[j, k]
            chol[i, j] = s / chol[j, j]
    # m^-1 from the Cholesky factor: solve for each unit vector
    minv = np.zeros((p, p))
    col = np.zeros(p)
    for c in range(p):
        for i in range(p):
            s = 1.0 if i == c else 0.0
            for k in range(i):
                s -= chol[i, k] * col[k]
            col[i] = s / chol[i, i]
        for i in range(p - 1, -1, -1):
            s = col[i]
            for k in range(i + 1, p):
                s -= chol[k, i] * col[k]
            col[i] = s / chol[i, i]
        for i in range(p):
            minv[i, c] = col[i]
    return logdet, minv


@numba.njit(cache=True, nogil=True)
def block_loglik(  # pragma: no cover - jitted
    a: float, b: float, lam: np.ndarray, yt: np.ndarray, gt: np.ndarray
) -> tuple[float, float, float]:
    """Log density of one block (without its constant) and its derivatives in ``a`` and ``b``."""
    n, p = gt.shape
    if n == 0:
        return 0.0, 0.0, 0.0
    inv_d = np.empty(n)
    quad = 0.0
    logdet = 0.0
    trace_inv = 0.0
    for i in range(n):
        di = lam[i] + b * b
        inv_d[i] = 1.0 / di
        quad += yt[i] * yt[i] * inv_d[i]
        logdet += np.log(di)
        trace_inv += inv_d[i]
    # h = g' D^-1 g, h2 = g' D^-2 g, r = g' D^-1 y
    h = np.zeros((p, p))
    h2 = np.zeros((p, p))
    r = np.zeros(p)
    for i in range(n):
        w1 = inv_d[i]
        w2 = w1 * w1
        for j in range(p):
            gij = gt[i, j]
            if gij == 0.0:
                continue
            r[j] += gij * yt[i] * w1
            for k in range(p):
                h[j, k] += gij * gt[i, k] * w1
                h2[j, k] += gij * gt[i, k] * w2
    a2 = a * a
    logdet, minv = _inverse_of_identity_plus(a2, h, logdet)
    mr = minv @ r
    quad -= a2 * (r @ mr)
    ll = -0.5 * (quad + logdet)
    # u = Sigma^-1 y in the eigenbasis; gradients from d logN = -1/2 (tr(S^-1 dS) - u' dS u)
    gmr = gt @ mr
    u = np.empty(n)
    uu = 0.0
    for i in range(n):
        u[i] = inv_d[i] * (yt[i] - a2 * gmr[i])
        uu += u[i] * u[i]
    gu = gt.T @ u
    tr_h = 0.0
    tr_h2 = 0.0
    for j in range(p):
        for k in range(p):
            tr_h += minv[j, k] * h[k, j]
            tr_h2 += minv[j, k] * h2[k, j]
    d_a = -a * (tr_h - gu @ gu)
    d_b = -b * (trace_inv - a2 * tr_h2 - uu)
    return ll, d_a, d_b  # type: ignore[return-value]


def pack(prior_sd: np.ndarray, blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray, float]]) -> np.ndarray:
    """All of a count's arrays in one float vector, so each call passes two arguments.

    Layout: ``[k, sd_1..sd_k]`` then per block ``[n, p, const, lam (n), yt (n), gt (n*p)]``
    (calls into numba cost about a microsecond per argument, more than the maths).
    """
    parts = [np.array([float(len(prior_sd))]), np.asarray(prior_sd, float)]
    for lam, yt, gt, const in blocks:
        n, p = gt.shape if gt.size else (lam.size, 0)
        parts += [np.array([n, p, const], float), lam, yt, np.ascontiguousarray(gt, float).ravel()]
    return np.ascontiguousarray(np.concatenate(parts))


@numba.njit(cache=True, nogil=True)
def collapsed_logp(theta: np.ndarray, packed: np.ndarray) -> tuple[float, np.ndarray]:  # pragma: no cover
    """Log density and gradient on the unconstrained scale ``theta = log(scales)``.

    ``theta`` holds ``log sigma_type, log sigma_batch`` and, with a turnout block,
    ``log rate_sigma_type, log rate_sigma_batch``; ``packed`` is ``pack``'s
    vector.  Each scale has a half-normal prior with sd ``prior_sd[j]``;
    ``+ theta`` is the log-transform Jacobian, as in PyMC.
    """
    k = int(packed[0])
    prior_sd = packed[1 : 1 + k]
    sig = np.exp(theta)
    d = np.zeros(k)
    lp = 0.0
    pos = 1 + k
    for blk in range(k // 2):
        n = int(packed[pos])
        p = int(packed[pos + 1])
        const = packed[pos + 2]
        pos += 3
        lam = packed[pos : pos + n]
        yt = packed[pos + n : pos + 2 * n]
        gt = packed[pos + 2 * n : pos + 2 * n + n * p].reshape((n, p))
        pos += 2 * n + n * p
        ll, d_a, d_b = block_loglik(sig[2 * blk], sig[2 * blk + 1], lam, yt, gt)
        lp += ll + const
        d[2 * blk] = d_a
        d[2 * blk + 1] = d_b
    grad = np.empty(k)
    for j in range(k):
        z = sig[j] / prior_sd[j]
        lp += _HALF_LOG_2_OVER_PI - np.log(prior_sd[j]) - 0.5 * z * z + theta[j]
        grad[j] = sig[j] * (d[j] - sig[j] / (prior_sd[j] * prior_sd[j])) + 1.0
    return lp, grad


# C callbacks in nutpie's calling convention (as in ``nutpie.compile_pymc``): the
# sampler calls them from its own threads without the GIL.  ``data`` points to a
# vector ``[len, *packed]``.
_LOGP_SIGNATURE = numba.types.int64(
    numba.types.uint64,
    numba.types.CPointer(numba.types.double),
    numba.types.CPointer(numba.types.double),
    numba.types.CPointer(numba.types.double),
    numba.types.CPointer(numba.types.double),
)
_EXPAND_SIGNATURE = numba.types.int64(
    numba.types.uint64,
    numba.types.uint64,
    numba.types.CPointer(numba.types.double),
    numba.types.CPointer(numba.types.double),
    numba.types.CPointer(numba.types.double),
)


@numba.cfunc(_LOGP_SIGNATURE, cache=True)
def c_logp(dim, x_ptr, grad_ptr, logp_ptr, data_ptr):  # pragma: no cover - called by nutpie
    """``logp(theta)`` and its gradient; 3 = non-finite gradient, 4 = non-finite value."""
    size = int(numba.carray(data_ptr, (1,))[0])
    packed = numba.carray(data_ptr, (size,))[1:]
    theta = numba.carray(x_ptr, (dim,))
    grad = numba.carray(grad_ptr, (dim,))
    out = numba.carray(logp_ptr, (1,))
    lp, g = collapsed_logp(theta, packed)
    out[0] = lp
    status = 0
    for i in range(dim):
        grad[i] = g[i]
        if not np.isfinite(g[i]):
            status = 3
    if not np.isfinite(lp):
        status = 4
    return status


@numba.cfunc(_EXPAND_SIGNATURE, cache=True)
def c_expand(dim, n_expanded, x_ptr, out_ptr, data_ptr):  # pragma: no cover - called by nutpie
    """The sampled scales on their natural scale: ``exp(theta)``."""
    if n_expanded != dim:
        return -1
    theta = numba.carray(x_ptr, (dim,))
    out = numba.carray(out_ptr, (dim,))
    for i in range(dim):
        out[i] = np.exp(theta[i])
    return 0


class _CollapsedDensity:
    """Log density (and gradient) of the PyMC model (``nuts._pymc_model``) on the log-scale of its scales.

    ``theta`` is ``log`` of ``sigma_type, sigma_batch`` (and of the turnout pair
    when ballots are reported), the parametrisation PyMC and nutpie sample; the
    value includes the priors and the log-transform Jacobian, exactly as PyMC's
    ``model.logp()``.  The Gaussian block is evaluated in ``O(N P^2)`` by the
    compiled kernel above.
    """

    def __init__(self, data: ModelData):
        pr = data.priors
        d = data.y.shape[1]
        mats = _collapsed_matrices(data)
        # types with a prior from history carry a known sd (in F), not sigma_type
        t_onehot = np.eye(data.n_types)[data.type_idx] * ~_prior_covered(data)[data.type_idx][:, None]
        blocks = [
            _scale_block(
                mats["y"],
                mats["F"],
                np.linalg.cholesky(_corr(d)),
                np.kron(t_onehot, np.eye(d)),
                batch_variance_scale(data),
            )
        ]
        sds = [pr.type_sd, pr.batch_sd]
        if data.has_rate:
            typed = data.rate_type_idx >= 0
            g = np.eye(data.n_types)[np.where(typed, data.rate_type_idx, 0)] * typed[:, None]
            blocks.append(_scale_block(mats["rate_y"], mats["rate_F"], np.ones((1, 1)), g))
            sds += [pr.rate_type_sd, pr.rate_batch_sd]
        self.names = _SCALE_NAMES[: len(sds)]
        self.blocks = blocks
        self.prior_sd = np.array(sds)
        self.packed = pack(self.prior_sd, [(b.lam, b.yt, b.gt, b.const) for b in blocks])
        self.kernel = collapsed_logp

    @property
    def n_dim(self) -> int:
        return len(self.names)

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        return self.kernel(np.asarray(theta, dtype=float), self.packed)

    def initial_point(self, seed: int) -> np.ndarray:
        """PyMC's default start: the prior's typical scale, jittered by U(-1, 1) in log space."""
        jitter = np.random.default_rng(seed).uniform(-1.0, 1.0, self.n_dim)
        return np.log(self.prior_sd * np.sqrt(2.0 / np.pi)) + jitter
