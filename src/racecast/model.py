"""The batch-type model: how each batch type leans, and how batches vary around it.

The maths, every prior and the scale it implies are in ``docs/model.md``; this
module is its implementation.  In short, for a release (batch) ``k`` of type
``t`` with votes ``v_k`` over ``K`` candidates:

* candidate scores are zero-sum vectors; shares are their softmax;
* ``alpha_t = mu + sigma_type * z_t``: each type's lean is pooled towards the
  contest-wide mean ``mu``;
* ``eta_k = alpha_t + x_k * delta_t``: drift, with ``x_k`` the batch's position in
  the type's ballots (``-0.5`` first ballot ... ``+0.5`` last) so later batches of
  a type may lean further than earlier ones;
* the batch's observed log-ratios ``y_k = log((v_k + 1/2) / (v_kK + 1/2))`` are
  normal around the log-ratios of ``eta_k`` with covariance
  ``sigma_batch^2 (I + J) + S_k``: batch-to-batch variation (overdispersion) plus
  the multinomial sampling variance ``S_k`` (delta method, empirical logit);
* when jurisdiction ballots are reported, the contest's share of ballots
  (votes / ballots) follows the same hierarchy on the logit scale by type;
* optionally a prior learned from earlier counts (:mod:`racecast.prior`) gives
  ``alpha_t - mu ~ N(m_t, s_t^2)`` for the types it covers, replacing the
  ``sigma_type * z_t`` term there (``ModelData.prior_mean`` / ``prior_sd``).

Two engines fit this one model: ``"nuts"`` samples it with NUTS (nutpie when
installed, on a compiled closed form of the PyMC model's density; else PyMC's
own sampler on the PyMC model), ``"fast"`` integrates the Gaussian parameters
exactly and the two variance parameters on an adaptive grid (the model is
conditionally Gaussian).  Both return :class:`Posterior` draws of the same
parameters.  Neither imports PyMC unless nutpie is missing; the fast engine
imports nothing beyond numpy and pandas.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .count import Count
from .errors import SamplerWarning

__all__ = ["Priors", "ModelData", "Posterior", "build_model_data", "fit_nuts", "fit_fast"]


@dataclass(frozen=True)
class Priors:
    """Prior scales of the batch-type model (see ``docs/model.md``).

    Scores are zero-sum per candidate; in a two-candidate race a score scale
    ``s`` is a log-odds scale of ``s * sqrt(2)``; near 50% one log-odds unit is
    about 25 share points.

    Attributes
    ----------
    mu_sd
        Contest-wide mean score, ``Normal(0, 1.5)``: two-candidate log-odds sd 2.1,
        any mean share from ~2% to ~98% is plausible.
    type_sd
        ``sigma_type ~ HalfNormal(0.5)``: typical spread of type leans around the
        contest mean of ~0.5 log-odds (about 12 share points) in a two-way race,
        wide enough for mail/in-person splits of 2020 size in its tail.
    batch_sd
        ``sigma_batch ~ HalfNormal(0.2)``: typical batch-to-batch variation of
        ~0.2 log-odds (about 5 share points) within a type.
    drift_sd
        ``delta_t ~ Normal(0, 0.2)`` per candidate score: a type's lean may move by
        ~0.3 log-odds (about 7 points) from its first to its last ballot.
    rate_mu_sd, rate_type_sd, rate_batch_sd
        Contest share of jurisdiction ballots on the logit scale:
        ``Normal(0, 1.5)`` mean, ``HalfNormal(0.3)`` between types,
        ``HalfNormal(0.2)`` between batches.
    """

    mu_sd: float = 1.5
    type_sd: float = 0.5
    batch_sd: float = 0.2
    drift_sd: float = 0.2
    rate_mu_sd: float = 1.5
    rate_type_sd: float = 0.3
    rate_batch_sd: float = 0.2


@dataclass(frozen=True, eq=False)
class ModelData:
    """Everything the engines need, derived from a :class:`~racecast.count.Count`.

    Built by :func:`build_model_data`; a pure function of the count, the batch
    types to model and the expected remaining votes by type.
    """

    candidates: tuple[str, ...]
    types: tuple[str, ...]
    y: np.ndarray  # (n, D) observed log-ratios vs the last candidate
    noise: np.ndarray  # (n, D, D) multinomial sampling covariance of y
    type_idx: np.ndarray  # (n,)
    x: np.ndarray  # (n,) drift position in [-0.5, 0.5]
    batch_votes: np.ndarray  # (n,) votes in each batch
    # turnout (contest share of jurisdiction ballots)
    rate_y: np.ndarray  # (m,) logit(votes/ballots) per span
    rate_var: np.ndarray  # (m,) binomial sampling variance of rate_y
    rate_type_idx: np.ndarray  # (m,) type index, -1 for a span of mixed types
    counted_by_type: np.ndarray  # (T,) votes counted so far by type
    remaining_votes_hint: np.ndarray  # (T,) expected remaining votes (positions, batch counts)
    priors: Priors = field(default_factory=Priors)
    # prior from history (racecast.prior): alpha_t - mu ~ N(prior_mean[t], prior_sd[t]^2 corr) replaces
    # N(0, sigma_type^2 corr) for types with a finite prior_sd; None (or nan) = the hierarchy as usual
    prior_mean: np.ndarray | None = None  # (T, D) log-ratios vs the last candidate
    prior_sd: np.ndarray | None = None  # (T,) score scale, nan where the type is not covered

    @property
    def n_candidates(self) -> int:
        return len(self.candidates)

    @property
    def n_types(self) -> int:
        return len(self.types)

    @property
    def has_rate(self) -> bool:
        return self.rate_y.size > 0


@dataclass(frozen=True, eq=False)
class Posterior:
    """Posterior draws of the model's parameters (one row per draw).

    Scores are zero-sum over candidates (shares are their softmax).
    """

    alpha: np.ndarray  # (S, T, K) type lean scores at the middle of the type
    delta: np.ndarray  # (S, T, K) drift across the type
    sigma_batch: np.ndarray  # (S,)
    sigma_type: np.ndarray  # (S,)
    mu: np.ndarray  # (S, K)
    rho: np.ndarray | None  # (S, T) logit contest share of ballots by type
    rate_sigma_batch: np.ndarray | None  # (S,)
    engine: str
    diagnostics: dict[str, Any]
    idata: Any = None  # arviz.InferenceData for NUTS (posterior + sample_stats)

    @property
    def n_draws(self) -> int:
        return int(self.alpha.shape[0])


# ---------------------------------------------------------------------------
# data preparation
# ---------------------------------------------------------------------------
def _alr_obs(votes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Empirical log-ratios vs the last candidate and their delta-method covariance."""
    smoothed = votes.astype(float) + 0.5
    y = np.log(smoothed[:, :-1]) - np.log(smoothed[:, -1:])
    d = votes.shape[1] - 1
    inv = 1.0 / smoothed
    noise = inv[:, -1, None, None] * np.ones((1, d, d)) + np.einsum("nd,de->nde", inv[:, :-1], np.eye(d))
    return y, noise


def build_model_data(count: Count, types: tuple[str, ...], remaining_votes_hint: dict[str, float],
                     priors: Priors | None = None) -> ModelData:
    """Turn a count into model inputs.

    Parameters
    ----------
    count
        The validated count.
    types
        Batch types to model (counted types and outstanding types).
    remaining_votes_hint
        Expected remaining *votes* by type, used only to place batches along their
        type (drift positions) and to size simulated batches.
    priors
        Prior scales; defaults to :class:`Priors`.
    """
    batches = count.batches()
    cand = list(count.candidates)
    # column by column: much cheaper than a pandas multi-column selection
    votes = np.column_stack([batches[c].to_numpy(dtype=np.int64) for c in cand]) if len(batches) else np.zeros(
        (0, len(cand)), np.int64
    )
    y, noise = _alr_obs(votes)
    tpos = {t: i for i, t in enumerate(types)}
    type_idx = np.array([tpos[t] for t in batches["batch_type"]], dtype=np.int64)
    n_votes = votes.sum(axis=1).astype(float)
    counted = np.zeros(len(types))
    np.add.at(counted, type_idx, n_votes)
    hint = np.array([max(float(remaining_votes_hint.get(t, 0.0)), 0.0) for t in types])
    total = counted + hint
    # position of each batch's midpoint along its type's votes: votes of the type before it + half its own
    order = np.argsort(type_idx, kind="stable")
    sorted_votes = n_votes[order]
    before = np.cumsum(sorted_votes) - sorted_votes
    first_of_type = np.searchsorted(type_idx[order], type_idx[order])
    running = np.empty(len(n_votes))
    running[order] = before - before[first_of_type]
    safe_total = np.where(total > 0, total, 1.0)[type_idx]
    x = np.where(total[type_idx] > 0, (running + n_votes / 2.0) / safe_total - 0.5, 0.0)
    spans = count.turnout_spans() if count.has_ballots else None
    b = spans["ballots"].to_numpy(float) if spans is not None else np.zeros(0)
    v = spans["votes"].to_numpy(float) if spans is not None else np.zeros(0)
    used = (b > 0) & (v > 0)
    if used.any():
        span_types = [t for t, u in zip(spans["batch_type"], used) if u]
        b, v = b[used], np.minimum(v[used], b[used])  # a contest cannot have more votes than ballots
        r = (v + 0.5) / (b + 1.0)
        rate_y = np.log(r / (1 - r))
        rate_var = 1.0 / ((b + 1.0) * r * (1 - r))
        rate_type_idx = np.array(
            [tpos[t] if isinstance(t, str) and t in tpos else -1 for t in span_types], dtype=np.int64
        )
    else:
        rate_y = rate_var = np.zeros(0)
        rate_type_idx = np.zeros(0, dtype=np.int64)
    return ModelData(
        candidates=count.candidates,
        types=tuple(types),
        y=y,
        noise=noise,
        type_idx=type_idx,
        x=x,
        batch_votes=n_votes,
        rate_y=rate_y,
        rate_var=rate_var,
        rate_type_idx=rate_type_idx,
        counted_by_type=counted,
        remaining_votes_hint=hint,
        priors=priors or Priors(),
    )


def _alr_to_scores(alr: np.ndarray) -> np.ndarray:
    """Log-ratios vs the last candidate (..., D) -> zero-sum scores (..., K)."""
    full = np.concatenate([alr, np.zeros(alr.shape[:-1] + (1,))], axis=-1)
    return full - full.mean(axis=-1, keepdims=True)


# ---------------------------------------------------------------------------
# fast engine: exact Gaussian integration + adaptive grid over the two scales
# ---------------------------------------------------------------------------
def _design_matrix(design: list[tuple[np.ndarray, np.ndarray]], n: int, n_blocks: int) -> np.ndarray:
    """``(n, C)`` weights of each observation on each block (terms on one block add up)."""
    w = np.zeros((n, n_blocks))
    rows = np.arange(n)
    for blocks, weights in design:
        np.add.at(w, (rows, blocks), weights)
    return w


def _gaussian_block(
    y: np.ndarray,
    noise: np.ndarray,
    design: list[tuple[np.ndarray, np.ndarray]],
    prior_scales: np.ndarray,
    extra_var: np.ndarray,
    corr: np.ndarray,
    posterior: bool = True,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Log marginal likelihood, posterior mean and a square root of the posterior covariance.

    The square root is ``L^-T`` for ``L`` the Cholesky factor of the posterior
    precision (so ``mean + L^-T z`` is a posterior draw).  With
    ``posterior=False`` only the log marginal likelihood is computed (mean and
    square root are ``None``): the grid's coarse pass needs nothing else.

    Model: ``y_i = sum_j w_ij beta_{c_ij} + e_i`` with ``beta_c ~ N(0, s_c^2 corr)``
    independent blocks of dimension D, ``e_i ~ N(0, extra_var * corr + noise_i)``.
    Vectorised over G settings of ``(prior_scales[g], extra_var[g])``.

    Parameters
    ----------
    design
        For each observation term: ``(block_index_array (n,), weight_array (n,))``.
    prior_scales
        ``(G, C)`` prior sd of each block.
    extra_var
        ``(G,)`` batch variance.
    """
    n, d = y.shape
    g_count, n_blocks = prior_scales.shape
    p = n_blocks * d
    w = _design_matrix(design, n, n_blocks)
    # observation covariance R_i = extra_var * corr + noise_i : (G, n, d, d)
    if d == 1:
        r = extra_var[:, None] * corr[0, 0] + noise[None, :, 0, 0]  # (G, n)
        r_inv = 1.0 / r
        logdet_r = np.log(r).sum(axis=-1)
        riy = r_inv * y[None, :, 0]  # (G, n)
        # X^T R^-1 X = W^T diag(r_inv) W and X^T R^-1 y = W^T (r_inv * y)
        q = (w.T[None] * r_inv[:, None, :]) @ w
        b = riy @ w
        yry = riy @ y[:, 0]
    else:
        r = extra_var[:, None, None, None] * corr[None, None] + noise[None]
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
    corr_inv = np.linalg.inv(corr)
    _, corr_logdet = np.linalg.slogdet(corr)
    # block-diagonal prior precision: blocks of corr^-1 / s_c^2
    diag_idx = np.arange(n_blocks)
    q = np.ascontiguousarray(q)
    q4 = q.reshape(g_count, n_blocks, d, n_blocks, d)
    q4[:, diag_idx, :, diag_idx, :] += (corr_inv[None, None] / prior_scales.T[:, :, None, None] ** 2)
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


def _halfnormal_logpdf(x: np.ndarray, scale: float) -> np.ndarray:
    return -0.5 * (x / scale) ** 2


def _grid_posterior(
    loglik_fn, scale_a: float, scale_b: float, n_coarse: int = 10, n_fine: int = 14
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple]:
    """Adaptive 2-D grid over two half-normal scales, in log space.

    Returns the fine grid's ``(a, b)`` values, normalised weights and the
    per-point results of ``loglik_fn``.  Grid cells carry prior x likelihood x
    cell volume (uniform in log scale, so the Jacobian ``sigma`` enters).
    """

    def evaluate(la: np.ndarray, lb: np.ndarray, posterior: bool):
        aa, bb = np.meshgrid(np.exp(la), np.exp(lb), indexing="ij")
        a, b = aa.ravel(), bb.ravel()
        res = loglik_fn(a, b, posterior)
        logw = res[0] + _halfnormal_logpdf(a, scale_a) + _halfnormal_logpdf(b, scale_b) + np.log(a) + np.log(b)
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


def _share_design(data: ModelData) -> list[tuple[np.ndarray, np.ndarray]]:
    """Blocks: 0 = mu, 1..T = alpha_t - mu, T+1..2T = delta_t."""
    n = data.y.shape[0]
    ones = np.ones(n)
    t_n = data.n_types
    return [(np.zeros(n, np.int64), ones), (1 + data.type_idx, ones), (1 + t_n + data.type_idx, data.x)]


def _share_scales(data: ModelData, sig_t: np.ndarray) -> np.ndarray:
    pr, t_n = data.priors, data.n_types
    scales = np.empty((sig_t.size, 1 + 2 * t_n))
    scales[:, 0] = pr.mu_sd
    scales[:, 1 : 1 + t_n] = sig_t[:, None]
    scales[:, 1 + t_n :] = pr.drift_sd
    covered = _prior_covered(data)
    if covered.any():  # a prior from history fixes these types' scale (no longer sigma_type)
        scales[:, 1 + np.flatnonzero(covered)] = data.prior_sd[covered][None, :]
    return scales


def _prior_covered(data: ModelData) -> np.ndarray:
    """(T,) bool: types whose ``alpha_t - mu`` has a prior from history."""
    if data.prior_sd is None:
        return np.zeros(data.n_types, dtype=bool)
    return np.isfinite(data.prior_sd)


def _prior_mean(data: ModelData) -> np.ndarray:
    """(T, D) prior mean of ``alpha_t - mu`` (zero where no prior from history)."""
    d = data.n_candidates - 1
    if data.prior_mean is None:
        return np.zeros((data.n_types, d))
    return np.where(_prior_covered(data)[:, None], data.prior_mean, 0.0)


def _share_y(data: ModelData) -> np.ndarray:
    """Observed log-ratios minus the prior mean of their type's ``alpha_t - mu``.

    With ``alpha_t - mu = m_t + u_t`` and ``u_t`` zero-mean, ``y_k - m_t`` is the
    zero-prior-mean model the Gaussian block integrates; ``m_t`` is added back to
    the draws of ``u_t``.
    """
    if data.prior_mean is None:
        return data.y
    return data.y - _prior_mean(data)[data.type_idx]


def _rate_design(data: ModelData) -> list[tuple[np.ndarray, np.ndarray]]:
    """Blocks: 0 = rho0, 1..T = rho_t - rho0 (spans of mixed types load on rho0 only)."""
    m = data.rate_y.size
    known = data.rate_type_idx >= 0
    return [(np.zeros(m, np.int64), np.ones(m)), (1 + np.where(known, data.rate_type_idx, 0), known.astype(float))]


def _rate_scales(data: ModelData, sig_t: np.ndarray) -> np.ndarray:
    scales = np.empty((sig_t.size, 1 + data.n_types))
    scales[:, 0] = data.priors.rate_mu_sd
    scales[:, 1:] = sig_t[:, None]
    return scales


def _corr(d: int) -> np.ndarray:
    return np.eye(d) + np.ones((d, d))


def _draw_gaussian(
    mean: np.ndarray, cov_sqrt: np.ndarray, pick: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draws ``mean[pick] + cov_sqrt[pick] z``: one Gaussian draw per entry of ``pick``.

    ``mean`` and ``cov_sqrt`` (from :func:`_gaussian_block`) are per scale setting.
    """
    z = rng.standard_normal((pick.size, mean.shape[-1]))
    return mean[pick] + np.matmul(cov_sqrt[pick], z[:, :, None])[:, :, 0]


def _unique_pairs(sig_t: np.ndarray, sig_b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct ``(sig_t, sig_b)`` pairs and, per draw, the index of its pair."""
    _, first, inverse = np.unique(sig_t + 1j * sig_b, return_index=True, return_inverse=True)
    return sig_t[first], sig_b[first], np.asarray(inverse).ravel()


def _shares_from_beta(data: ModelData, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Block draws ``(S, 1 + 2T, D)`` -> zero-sum scores of ``mu, alpha, delta``."""
    t_n = data.n_types
    mu = beta[:, 0]
    alpha = mu[:, None, :] + beta[:, 1 : 1 + t_n] + _prior_mean(data)[None]  # prior from history, if any
    return _alr_to_scores(mu), _alr_to_scores(alpha), _alr_to_scores(beta[:, 1 + t_n :])


def _share_block(data: ModelData, sig_t: np.ndarray, sig_b: np.ndarray, posterior: bool = True):
    d = data.n_candidates - 1
    return _gaussian_block(
        _share_y(data), data.noise, _share_design(data), _share_scales(data, sig_t), sig_b**2, _corr(d),
        posterior=posterior,
    )


def _rate_block(data: ModelData, sig_t: np.ndarray, sig_b: np.ndarray, posterior: bool = True):
    return _gaussian_block(
        data.rate_y[:, None], data.rate_var[:, None, None], _rate_design(data),
        _rate_scales(data, sig_t), sig_b**2, np.eye(1), posterior=posterior,
    )


#: Scale settings factorised at once when drawing conditionals (bounds memory for many draws).
_CHUNK = 4096


def _conditional_draws(block, data: ModelData, sig_t: np.ndarray, sig_b: np.ndarray,
                       rng: np.random.Generator) -> np.ndarray:
    """One draw of a block's Gaussian parameters for each ``(sig_t, sig_b)`` draw.

    Exact: given the scales the model is linear-Gaussian in these parameters.
    Unique scale pairs are factorised once, a chunk at a time.
    """
    u_t, u_b, inverse = _unique_pairs(sig_t, sig_b)
    out = None
    for start in range(0, u_t.size, _CHUNK):
        _, mean, cov_sqrt = block(data, u_t[start : start + _CHUNK], u_b[start : start + _CHUNK])
        if out is None:
            out = np.empty((sig_t.size, mean.shape[-1]))
        rows = np.flatnonzero((inverse >= start) & (inverse < start + _CHUNK))
        out[rows] = _draw_gaussian(mean, cov_sqrt, inverse[rows] - start, rng)
    assert out is not None
    return out


def _conditional_shares(
    data: ModelData, sig_t: np.ndarray, sig_b: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw (mu, alpha, delta) scores given draws of (sigma_type, sigma_batch)."""
    beta = _conditional_draws(_share_block, data, sig_t, sig_b, rng)
    return _shares_from_beta(data, beta.reshape(sig_t.size, -1, data.n_candidates - 1))


def _conditional_rates(
    data: ModelData, sig_t: np.ndarray, sig_b: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draw logit contest shares of ballots by type given the rate block's scales."""
    rb = _conditional_draws(_rate_block, data, sig_t, sig_b, rng)
    return rb[:, :1] + rb[:, 1:]


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
    # the fine grid's conditional means and precision factors are exactly those of
    # the picked scale pairs, so the conditional draws reuse them
    sig_t, sig_b, w, (_, mean, cov_sqrt) = _grid_posterior(
        lambda st, sb, posterior: _share_block(data, st, sb, posterior), pr.type_sd, pr.batch_sd
    )
    pick = rng.choice(w.size, size=draws, p=w)
    beta = _draw_gaussian(mean, cov_sqrt, pick, rng)
    mu, alpha, delta = _shares_from_beta(data, beta.reshape(draws, -1, d))
    rho = rate_sb = None
    diag: dict[str, Any] = {
        "engine": "fast",
        "grid_points": int(w.size),
        "grid_effective_points": float(1.0 / (w**2).sum()),
    }
    if data.has_rate:
        r_st, r_sb, r_w, (_, r_mean, r_cov_sqrt) = _grid_posterior(
            lambda st, sb, posterior: _rate_block(data, st, sb, posterior), pr.rate_type_sd, pr.rate_batch_sd
        )
        r_pick = rng.choice(r_w.size, size=draws, p=r_w)
        rb = _draw_gaussian(r_mean, r_cov_sqrt, r_pick, rng)
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
    )


# ---------------------------------------------------------------------------
# NUTS engine: nutpie on the collapsed model (PyMC's own sampler without nutpie)
# ---------------------------------------------------------------------------
#: Names of the parameters NUTS samples (the turnout pair only when ballots are reported).
_SCALE_NAMES = ("sigma_type", "sigma_batch", "rate_sigma_type", "rate_sigma_batch")

#: Chains run in parallel by default (``None``: all chains); worker processes of
#: :func:`racecast.forecast_many` set 1, as the pool already fills the cores.
_NUTS_CORES: int | None = None


def _collapsed_matrices(data: ModelData) -> dict[str, np.ndarray]:
    """Covariance pieces of the collapsed (marginal) model of ``vec(y)``.

    With ``beta = (mu, alpha - mu, delta)`` integrated out,
    ``Cov[vec y] = F + sigma_type^2 B + sigma_batch^2 I_C`` where ``F`` holds the
    known parts (contest mean, drift, multinomial noise), ``B`` links batches of
    one type and ``I_C`` is the batch-level covariance.  Types with a prior from
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
    known_sd = np.where(covered, data.prior_sd[data.type_idx], 0.0) if covered.any() else np.zeros(n)
    fixed = (
        pr.mu_sd**2 * np.kron(np.ones((n, n)), c)
        + pr.drift_sd**2 * np.kron(np.outer(data.x, data.x) * same, c)
        + np.kron(np.outer(known_sd, known_sd) * same, c)
        + noise
    )
    hier = same * np.outer(~covered, ~covered)
    out = {"y": _share_y(data).reshape(-1), "F": fixed, "B": np.kron(hier, c), "I_C": np.kron(np.eye(n), c)}
    if data.has_rate:
        m = data.rate_y.size
        typed = data.rate_type_idx >= 0
        same_r = ((data.rate_type_idx[:, None] == data.rate_type_idx[None, :]) & typed[:, None] & typed[None, :])
        out["rate_y"] = data.rate_y
        out["rate_F"] = pr.rate_mu_sd**2 * np.ones((m, m)) + np.diag(data.rate_var)
        out["rate_B"] = same_r.astype(float)
    return out


def _pymc_model(data: ModelData):
    """The PyMC model, collapsed over its Gaussian parameters.

    The contest mean, type leans and drifts are Gaussian given the two scales, so
    they are integrated out exactly and NUTS samples only
    ``(sigma_type, sigma_batch)`` (and the turnout block's two scales): no funnel,
    no divergences from few batches per type.  Leans and drifts are then drawn
    from their exact conditional posterior for every NUTS draw.

    This is the model's reference definition.  PyMC's sampler runs it when
    nutpie is not installed; with nutpie, :func:`fit_nuts` samples the same
    log density through a closed form (:class:`_CollapsedDensity`, tested equal
    to this model's ``logp`` and gradient), which needs no PyMC compilation.
    The model is small and rebuilt for every fit, so a count of any length never
    meets PyMC's resizing pitfalls.
    """
    import pymc as pm

    pr = data.priors
    mats = _collapsed_matrices(data)
    with pm.Model() as model:
        sigma_type = pm.HalfNormal("sigma_type", sigma=pr.type_sd)
        sigma_batch = pm.HalfNormal("sigma_batch", sigma=pr.batch_sd)
        if data.y.shape[0]:
            y = pm.Data("y", mats["y"])
            f = pm.Data("F", mats["F"])
            b = pm.Data("B", mats["B"])
            ic = pm.Data("I_C", mats["I_C"])
            pm.MvNormal("obs", mu=0.0, cov=f + sigma_type**2 * b + sigma_batch**2 * ic, observed=y)
        if data.has_rate:
            ry = pm.Data("rate_y", mats["rate_y"])
            rf = pm.Data("rate_F", mats["rate_F"])
            rb = pm.Data("rate_B", mats["rate_B"])
            rsig_t = pm.HalfNormal("rate_sigma_type", sigma=pr.rate_type_sd)
            rsig_b = pm.HalfNormal("rate_sigma_batch", sigma=pr.rate_batch_sd)
            eye = pm.Data("rate_I", np.eye(ry.get_value().size))
            pm.MvNormal("rate_obs", mu=0.0, cov=rf + rsig_t**2 * rb + rsig_b**2 * eye, observed=ry)
    return model


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


def _scale_block(y: np.ndarray, fixed: np.ndarray, corr_chol: np.ndarray, g: np.ndarray) -> _ScaleBlock:
    """Rotate one block of the collapsed model (``R = I kron corr_chol``)."""
    d = corr_chol.shape[0]
    n_obs = y.size // d
    w = np.kron(np.eye(n_obs), np.linalg.inv(corr_chol))  # R^-1
    lam, u = np.linalg.eigh(w @ fixed @ w.T)
    g = g[:, np.abs(g).sum(axis=0) > 0]  # a type with no observation adds nothing
    const = -0.5 * (y.size * np.log(2 * np.pi) + 2.0 * n_obs * np.log(np.diag(corr_chol)).sum())
    return _ScaleBlock(
        lam=np.ascontiguousarray(lam),
        yt=np.ascontiguousarray(u.T @ (w @ y)),
        gt=np.ascontiguousarray(u.T @ g),
        const=float(const),
    )


class _CollapsedDensity:
    """Log density (and gradient) of :func:`_pymc_model` on the log-scale of its scales.

    ``theta`` is ``log`` of ``sigma_type, sigma_batch`` (and of the turnout pair
    when ballots are reported), the parametrisation PyMC and nutpie sample; the
    value includes the priors and the log-transform Jacobian, exactly as PyMC's
    ``model.logp()``.  The Gaussian block is evaluated in ``O(N P^2)`` by the
    compiled kernel in :mod:`racecast._collapsed`.
    """

    def __init__(self, data: ModelData):
        from ._collapsed import collapsed_logp, pack

        pr = data.priors
        n, d = data.y.shape
        mats = _collapsed_matrices(data)
        # types with a prior from history carry a known sd (in F), not sigma_type
        t_onehot = np.eye(data.n_types)[data.type_idx] * ~_prior_covered(data)[data.type_idx][:, None]
        blocks = [_scale_block(mats["y"], mats["F"], np.linalg.cholesky(_corr(d)), np.kron(t_onehot, np.eye(d)))]
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


def _nutpie_model(density: _CollapsedDensity):
    """A nutpie model of the collapsed density; nothing is compiled per count.

    The compiled C callbacks of :mod:`racecast._collapsed` are handed to nutpie
    the way ``nutpie.compile_pymc_model`` hands over PyTensor's: nutpie's
    threads call them without the GIL.  If this nutpie's model class differs
    from the one this was written against, nutpie calls the same kernel through
    Python instead (same draws, slower).
    """
    from nutpie.compile_pymc import CompiledPyMCModel

    from . import _collapsed

    names = list(density.names)
    k = len(names)
    fields = {f.name for f in dataclasses.fields(CompiledPyMCModel)}
    if fields >= _NUTPIE_FIELDS:
        user_data = np.concatenate([[density.packed.size + 1.0], density.packed])
        return CompiledPyMCModel(
            _n_dim=k,
            dims={},
            _coords={},
            _shapes={name: () for name in names},
            compiled_logp_func=_collapsed.c_logp,
            compiled_expand_func=_collapsed.c_expand,
            initial_point_func=density.initial_point,
            shared_data={},
            user_data=user_data,
            n_expanded=k,
            shape_info=(names, [slice(i, i + 1) for i in range(k)], [()] * k),
            logp_func=None,
            expand_func=None,
        )
    return _nutpie_pyfunc_model(density)  # pragma: no cover - other nutpie versions


#: The fields of ``nutpie.compile_pymc.CompiledPyMCModel`` that :func:`_nutpie_model` fills.
_NUTPIE_FIELDS = {
    "_n_dim", "dims", "_coords", "_shapes", "compiled_logp_func", "compiled_expand_func",
    "initial_point_func", "shared_data", "user_data", "n_expanded", "shape_info", "logp_func", "expand_func",
}


def _nutpie_pyfunc_model(density: _CollapsedDensity):
    """The same model through nutpie's Python-callback interface (the kernel is called per step)."""
    from nutpie.compiled_pyfunc import from_pyfunc

    names = density.names
    kernel, packed = density.kernel, density.packed

    def make_logp():
        def logp(theta, **_):
            return kernel(theta, packed)

        return logp

    def make_expand(_seed1, _seed2, _chain):
        def expand(theta, **_):
            return {name: np.exp(theta[i : i + 1]).reshape(()) for i, name in enumerate(names)}

        return expand

    return from_pyfunc(
        density.n_dim,
        make_logp,
        make_expand,
        [np.dtype("float64")] * len(names),
        [()] * len(names),
        list(names),
        make_initial_point_fn=density.initial_point,
    )


def _nutpie_available() -> bool:
    from importlib.util import find_spec

    return find_spec("nutpie") is not None and find_spec("numba") is not None


def fit_nuts(
    data: ModelData,
    *,
    draws: int,
    rng: np.random.Generator,
    chains: int = 2,
    tune: int = 500,
    target_accept: float = 0.99,
    cores: int | None = None,
    sampler: str | None = None,
    thin: int | None = None,
) -> Posterior:
    """Fit the model with NUTS (nutpie if installed, else PyMC's sampler).

    NUTS samples the collapsed model's scales; leans and drifts are then drawn
    exactly from their conditional posterior, draw by draw.

    With nutpie, the log density is the closed form of :class:`_CollapsedDensity`,
    whose kernel is compiled once per installation (cached on disk) and takes
    counts of any length: a new release, or another contest, only changes the
    arrays it is given, and nothing is recompiled.

    Parameters
    ----------
    chains, tune, target_accept
        NUTS settings; ``draws`` are split over the chains.  The scales' posterior
        has a steep wall where ``sigma_batch^2`` falls below the multinomial noise
        of large batches; at the usual ``target_accept=0.9`` a chain diverges there
        now and then (both with this density and with PyMC's compiled one), so
        steps are kept small: about twice the gradient evaluations, which the
        compiled kernel makes cheap.
    cores
        Chains run in parallel (default: as many as there are chains; one in
        :func:`racecast.forecast_many`'s worker processes).
    sampler
        ``"nutpie"`` or ``"pymc"``; default nutpie when installed.
    thin
        Keep every ``thin``-th NUTS draw (default: 2, more for small ``draws``,
        so that at least ~4,000 are sampled).  The scales' draws are
        autocorrelated (bulk ESS about a third of the draws, tail ESS less); NUTS
        is cheap here and every kept draw costs a conditional draw and a
        simulation, so sampling more and keeping fewer buys effective draws:
        with 2,000 draws of LA 2022, bulk/tail ESS 750/360 unthinned, 1,200/780
        with ``thin=2``.  The PyMC fallback does not thin.
    """
    per_chain = max(int(np.ceil(draws / chains)), 100)
    if thin is None:
        thin = int(np.clip(np.ceil(4000 / (per_chain * chains)), 2, 8))
    seed = int(rng.integers(2**31 - 1))
    if sampler is None:
        sampler = "nutpie" if _nutpie_available() else "pymc"
    if sampler == "nutpie":
        import nutpie

        density = _CollapsedDensity(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            idata = nutpie.sample(
                _nutpie_model(density), draws=per_chain * thin, tune=tune, chains=chains,
                cores=cores or _NUTS_CORES or chains,
                seed=seed, progress_bar=False, target_accept=target_accept, save_warmup=False,
            )
        if thin > 1:
            idata = idata.sel(draw=slice(None, None, thin))
    elif sampler == "pymc":
        import pymc as pm
        from threadpoolctl import threadpool_limits

        # tiny matrices: multi-threaded BLAS only adds contention
        with _pymc_model(data), threadpool_limits(1, user_api="blas"):
            idata = pm.sample(
                draws=per_chain, tune=tune, chains=chains, cores=1, random_seed=seed,
                progressbar=False, target_accept=target_accept, compute_convergence_checks=False,
            )
    else:
        raise ValueError(f"sampler must be 'nutpie' or 'pymc', got {sampler!r}")
    post = idata.posterior
    s = per_chain * chains

    def flat(name: str) -> np.ndarray:
        return post[name].to_numpy().reshape(s)

    sig_t, sig_b = flat("sigma_type"), flat("sigma_batch")
    mu, alpha, delta = _conditional_shares(data, sig_t, sig_b, rng)
    rho = rate_sb = None
    if data.has_rate:
        rate_sb = flat("rate_sigma_batch")
        rho = _conditional_rates(data, flat("rate_sigma_type"), rate_sb, rng)
    diag = _nuts_diagnostics(idata)
    diag["sampler"] = sampler
    diag["engine"] = "nuts"
    return Posterior(
        alpha=alpha, delta=delta, sigma_batch=sig_b, sigma_type=sig_t, mu=mu, rho=rho,
        rate_sigma_batch=rate_sb, engine="nuts", diagnostics=diag, idata=idata,
    )


def _nuts_diagnostics(idata: Any) -> dict[str, Any]:
    import arviz as az
    from arviz.utils import Numba

    names = [v for v in _SCALE_NAMES if v in idata.posterior]
    # ArviZ's numba variance is compiled afresh in every process (about a second);
    # for a few thousand draws of four scalars its numpy path is as fast and equal.
    numba_flag = Numba.numba_flag
    Numba.numba_flag = False
    try:
        summ = az.summary(idata, var_names=names, kind="diagnostics")
    finally:
        Numba.numba_flag = numba_flag
    stats = idata.sample_stats
    div_name = "diverging" if "diverging" in stats else None
    divergences = int(stats[div_name].sum()) if div_name else 0
    return {
        "r_hat_max": float(np.nanmax(summ["r_hat"].to_numpy())),
        "ess_bulk_min": float(np.nanmin(summ["ess_bulk"].to_numpy())),
        "ess_tail_min": float(np.nanmin(summ["ess_tail"].to_numpy())),
        "divergences": divergences,
    }


def check_diagnostics(diag: dict[str, Any], *, r_hat: float = 1.01, ess: float = 400.0) -> list[str]:
    """Problems found in NUTS diagnostics (empty when fine); warns with :class:`SamplerWarning`."""
    problems = []
    if diag.get("r_hat_max", 1.0) > r_hat:
        problems.append(f"R-hat {diag['r_hat_max']:.3f} > {r_hat}")
    if diag.get("ess_bulk_min", np.inf) < ess:
        problems.append(f"bulk ESS {diag['ess_bulk_min']:.0f} < {ess:.0f}")
    if diag.get("divergences", 0) > 0:
        problems.append(f"{diag['divergences']} divergent transitions")
    return problems


# TEMPORARY (core branch): replaced by model/engines.py at merge
RETRY_TARGET_ACCEPT = 0.99

def fit_posterior(data, *, engine, draws, rng, name, chains=2, tune=500, target_accept=0.9, retry_target_accept=0.99, cores=None):
    if engine == "fast":
        return fit_fast(data, draws=draws, rng=rng), []
    """NUTS, checked: on poor diagnostics retry once, then fall back to the fast engine.

    Diagnostics are R-hat (<= 1.01), bulk ESS (>= 400, or half the draws when
    fewer than 800 are asked for) and divergences (none).  An error raised by the
    sampler counts as trouble and goes straight to the fallback.  Every attempt
    is recorded in the posterior's diagnostics under ``nuts_attempts``; a
    fallback sets ``engine`` to ``"fast"`` and ``fallback`` to the reason, and
    is announced with a :class:`~racecast.errors.SamplerWarning`.
    """
    ess = min(400.0, draws / 2)
    attempts: list[dict[str, Any]] = []
    for target_accept in (target_accept, retry_target_accept):
        try:
            post = fit_nuts(data, draws=draws, rng=rng, target_accept=target_accept, chains=chains, tune=tune, cores=cores)
        except Exception as exc:  # noqa: BLE001 - any sampler failure is reported, then the fast engine runs
            attempts.append({"target_accept": target_accept, "error": f"{type(exc).__name__}: {exc}"})
            break
        problems = check_diagnostics(post.diagnostics, ess=ess)
        record = {k: post.diagnostics.get(k) for k in ("r_hat_max", "ess_bulk_min", "ess_tail_min", "divergences")}
        attempts.append({"target_accept": target_accept, **record, "problems": problems})
        if not problems:
            post.diagnostics["nuts_attempts"] = attempts
            post.diagnostics["retried"] = len(attempts) > 1
            return post, []
    what = "; ".join(
        f"target_accept={a['target_accept']}: " + (a.get("error") or ", ".join(a["problems"])) for a in attempts
    )
    fast = fit_fast(data, draws=draws, rng=rng)
    reason = f"NUTS failed its checks ({what})"
    fast.diagnostics.update(
        {"requested_engine": "nuts", "fallback": reason, "nuts_attempts": attempts, "retried": len(attempts) > 1}
    )
    msg = (
        f"{name}: {reason}; the forecast uses the fast engine instead (exact Gaussian integration of the same "
        "model on a grid of its two scales). Forecast.diagnostics has the details."
    )
    warnings.warn(msg, SamplerWarning, stacklevel=3)
    return fast, [msg]


