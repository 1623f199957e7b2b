"""The model collapsed over its Gaussian parameters: what NUTS samples.

With the contest mean, type leans and drifts integrated out, the data are one
multivariate normal whose covariance depends only on the scales.  These are its
pieces; the PyMC model ([`nuts`][racecast.model.nuts]) and the compiled density
([`_kernel`][racecast.model._kernel]) are built from them.  numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import ModelData, _prior_covered, _share_y
from .gaussian import _corr, batch_variance_scale

#: Names of the parameters NUTS samples (the turnout pair only when ballots are reported).
_SCALE_NAMES = ("sigma_type", "sigma_batch", "rate_sigma_type", "rate_sigma_batch")


def _collapsed_matrices(data: ModelData) -> dict[str, np.ndarray]:
    """Covariance pieces of the collapsed (marginal) model of ``vec(y)``.

    With ``beta = (mu, alpha - mu, delta)`` integrated out,
    ``Cov[vec y] = F + sigma_type^2 B + sigma_batch^2 I_C`` where ``F`` holds the
    known parts (contest mean, drift, place effects ``place_sd^2 L L'`` with ``L`` the
    place loadings of ``racecast.model.place``, multinomial noise), ``B`` links batches of
    one type and ``I_C`` is the batch-level covariance (each batch's block times its
    ``ModelData.batch_scale``: batch size within a place).  Types with a prior from
    history contribute their known ``prior_sd^2`` to ``F`` instead of
    ``sigma_type^2`` to ``B``, and ``y`` is taken relative to their prior mean.
    """
    pr = data.priors
    n, d = data.y.shape
    c = _corr(d)
    same = (data.type_idx[:, None] == data.type_idx[None, :]).astype(float)
    # block-diagonal multinomial noise, one (d, d) block per batch
    noise = np.einsum("ij,iab->iajb", np.eye(n), data.noise).reshape(n * d, n * d)
    covered = _prior_covered(data)[data.type_idx]
    prior_sd = data.prior_sd if data.prior_sd is not None else np.zeros(data.n_types)
    known_sd = np.where(covered, prior_sd[data.type_idx], 0.0) if covered.any() else np.zeros(n)
    places = data.place_loading
    fixed = (
        pr.mu_sd**2 * np.kron(np.ones((n, n)), c)
        + (0.0 if places is None else pr.place_sd**2 * np.kron(places @ places.T, c))
        + pr.drift_sd**2 * np.kron(np.outer(data.x, data.x) * same, c)
        + np.kron(np.outer(known_sd, known_sd) * same, c)
        + noise
    )
    hier = same * np.outer(~covered, ~covered)
    out = {
        "y": _share_y(data).reshape(-1),
        "F": fixed,
        "B": np.kron(hier, c),
        "I_C": np.kron(np.diag(batch_variance_scale(data)), c),
    }
    if data.has_rate:
        m = data.rate_y.size
        typed = data.rate_type_idx >= 0
        same_r = (
            (data.rate_type_idx[:, None] == data.rate_type_idx[None, :]) & typed[:, None] & typed[None, :]
        )
        out["rate_y"] = data.rate_y
        out["rate_F"] = pr.rate_mu_sd**2 * np.ones((m, m)) + np.diag(data.rate_var)
        out["rate_B"] = same_r.astype(float)
    return out


@dataclass(frozen=True, eq=False)
class _ScaleBlock:
    """``y ~ N(0, F + a^2 R g g' R' + b^2 R R')`` rotated to where ``F`` is diagonal.

    ``lam`` are the eigenvalues of ``R^-1 F R^-T`` (eigenvectors ``U``),
    ``yt = U' R^-1 y`` and ``gt = U' g``; ``const`` is ``-(N log 2 pi + log|R R'|)/2``.
    """

    lam: np.ndarray
    yt: np.ndarray
    gt: np.ndarray
    const: float


def _scale_block(
    y: np.ndarray,
    fixed: np.ndarray,
    corr_chol: np.ndarray,
    g: np.ndarray,
    obs_scale: np.ndarray | None = None,
) -> _ScaleBlock:
    """Rotate one block of the collapsed model (``R = diag(sqrt(obs_scale)) kron corr_chol``).

    ``g`` is the type loading on ``I kron corr_chol``'s scale; it is rescaled so that the
    type term stays ``a^2 B`` while the batch term becomes ``b^2 diag(obs_scale) kron C``.
    """
    d = corr_chol.shape[0]
    n_obs = y.size // d
    s = np.ones(n_obs) if obs_scale is None else np.asarray(obs_scale, float)
    inv_root = np.repeat(1.0 / np.sqrt(s), d)
    w = np.kron(np.diag(1.0 / np.sqrt(s)), np.linalg.inv(corr_chol))  # R^-1
    lam, u = np.linalg.eigh(w @ fixed @ w.T)
    g = g[:, np.abs(g).sum(axis=0) > 0] * inv_root[:, None]  # a type with no observation adds nothing
    const = -0.5 * (
        y.size * np.log(2 * np.pi) + 2.0 * n_obs * np.log(np.diag(corr_chol)).sum() + d * np.log(s).sum()
    )
    return _ScaleBlock(
        lam=np.ascontiguousarray(lam),
        yt=np.ascontiguousarray(u.T @ (w @ y)),
        gt=np.ascontiguousarray(u.T @ g),
        const=float(const),
    )
