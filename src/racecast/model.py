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

Two engines fit this one model: ``"nuts"`` samples it with PyMC (nutpie when
installed), ``"fast"`` integrates the Gaussian parameters exactly and the two
variance parameters on an adaptive grid (the model is conditionally Gaussian).
Both return :class:`Posterior` draws of the same parameters.  PyMC is imported
only when the NUTS engine runs.
"""

from __future__ import annotations

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
    votes = batches[cand].to_numpy(dtype=np.int64) if len(batches) else np.zeros((0, len(cand)), np.int64)
    y, noise = _alr_obs(votes)
    tpos = {t: i for i, t in enumerate(types)}
    type_idx = np.array([tpos[t] for t in batches["batch_type"]], dtype=np.int64)
    n_votes = votes.sum(axis=1).astype(float)
    counted = np.zeros(len(types))
    np.add.at(counted, type_idx, n_votes)
    hint = np.array([max(float(remaining_votes_hint.get(t, 0.0)), 0.0) for t in types])
    total = counted + hint
    x = np.zeros(len(n_votes))
    running = np.zeros(len(types))
    for i, (t, n) in enumerate(zip(type_idx, n_votes)):
        x[i] = (running[t] + n / 2.0) / total[t] - 0.5 if total[t] > 0 else 0.0
        running[t] += n
    spans = count.turnout_spans()
    spans = spans[(spans["ballots"] > 0) & (spans["votes"] > 0)] if len(spans) else spans
    if len(spans):
        b = spans["ballots"].to_numpy(float)
        v = np.minimum(spans["votes"].to_numpy(float), b)  # a contest cannot have more votes than ballots
        r = (v + 0.5) / (b + 1.0)
        rate_y = np.log(r / (1 - r))
        rate_var = 1.0 / ((b + 1.0) * r * (1 - r))
        rate_type_idx = np.array(
            [tpos[t] if isinstance(t, str) and t in tpos else -1 for t in spans["batch_type"]], dtype=np.int64
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
def _gaussian_block(
    y: np.ndarray,
    noise: np.ndarray,
    design: list[tuple[int, np.ndarray]],
    prior_scales: np.ndarray,
    extra_var: np.ndarray,
    corr: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log marginal likelihood, posterior mean and Cholesky of the precision.

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
    # observation covariance R_i = extra_var * corr + noise_i : (G, n, d, d)
    r = extra_var[:, None, None, None] * corr[None, None] + noise[None]
    r_chol = np.linalg.cholesky(r)
    r_inv = np.linalg.inv(r)
    logdet_r = 2.0 * np.log(np.diagonal(r_chol, axis1=-2, axis2=-1)).sum(axis=(-1, -2))
    # X_i^T R_i^-1 X_i scattered into (G, p, p); X_i^T R_i^-1 y_i into (G, p)
    q = np.zeros((g_count, p, p))
    b = np.zeros((g_count, p))
    riy = np.einsum("gnde,ne->gnd", r_inv, y)
    for c1, w1 in design:
        for c2, w2 in design:
            ww = w1 * w2
            for i in range(n):
                if ww[i] == 0.0:
                    continue
                s1 = slice(c1[i] * d, c1[i] * d + d)
                s2 = slice(c2[i] * d, c2[i] * d + d)
                q[:, s1, s2] += ww[i] * r_inv[:, i]
        for i in range(n):
            if w1[i] == 0.0:
                continue
            s1 = slice(c1[i] * d, c1[i] * d + d)
            b[:, s1] += w1[i] * riy[:, i]
    corr_inv = np.linalg.inv(corr)
    _, corr_logdet = np.linalg.slogdet(corr)
    for c in range(n_blocks):
        s = slice(c * d, c * d + d)
        q[:, s, s] += corr_inv[None] / prior_scales[:, c, None, None] ** 2
    logdet_prior = (2.0 * d * np.log(prior_scales)).sum(axis=1) + n_blocks * corr_logdet
    q_chol = np.linalg.cholesky(q)
    logdet_q = 2.0 * np.log(np.diagonal(q_chol, axis1=-2, axis2=-1)).sum(axis=-1)
    tmp = np.linalg.solve(q_chol, b[..., None])[..., 0]
    mean = np.linalg.solve(np.swapaxes(q_chol, -1, -2), tmp[..., None])[..., 0]
    yry = np.einsum("nd,gnd->g", y, riy)
    loglik = -0.5 * (yry - (tmp**2).sum(axis=-1) + logdet_r + logdet_prior + logdet_q + n * d * np.log(2 * np.pi))
    return loglik, mean, q_chol


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

    def evaluate(la: np.ndarray, lb: np.ndarray):
        aa, bb = np.meshgrid(np.exp(la), np.exp(lb), indexing="ij")
        a, b = aa.ravel(), bb.ravel()
        res = loglik_fn(a, b)
        logw = res[0] + _halfnormal_logpdf(a, scale_a) + _halfnormal_logpdf(b, scale_b) + np.log(a) + np.log(b)
        return a, b, logw, res

    la = np.linspace(np.log(scale_a * 0.01), np.log(scale_a * 4.0), n_coarse)
    lb = np.linspace(np.log(scale_b * 0.01), np.log(scale_b * 10.0), n_coarse)
    a, b, logw, _ = evaluate(la, lb)
    w = np.exp(logw - logw.max())
    keep = w > 1e-6 * w.max()
    ka, kb = np.log(a[keep]), np.log(b[keep])
    step_a, step_b = la[1] - la[0], lb[1] - lb[0]
    la = np.linspace(ka.min() - step_a, ka.max() + step_a, n_fine)
    lb = np.linspace(kb.min() - step_b, kb.max() + step_b, n_fine)
    a, b, logw, res = evaluate(la, lb)
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


def _draw_gaussian(mean: np.ndarray, q_chol: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    z = rng.standard_normal(mean.shape)
    return mean + np.linalg.solve(np.swapaxes(q_chol, -1, -2), z[..., None])[..., 0]


def _conditional_shares(
    data: ModelData, sig_t: np.ndarray, sig_b: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw (mu, alpha, delta) scores given draws of (sigma_type, sigma_batch).

    Exact: given the scales the model is linear-Gaussian in these parameters.
    Unique scale pairs are factorised once.
    """
    t_n, d = data.n_types, data.n_candidates - 1
    pairs, inverse = np.unique(np.stack([sig_t, sig_b]), axis=1, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    _, mean, q_chol = _gaussian_block(
        _share_y(data), data.noise, _share_design(data), _share_scales(data, pairs[0]), pairs[1] ** 2, _corr(d)
    )
    beta = _draw_gaussian(mean[inverse], q_chol[inverse], rng).reshape(sig_t.size, 1 + 2 * t_n, d)
    mu = beta[:, 0]
    alpha = mu[:, None, :] + beta[:, 1 : 1 + t_n] + _prior_mean(data)[None]
    return _alr_to_scores(mu), _alr_to_scores(alpha), _alr_to_scores(beta[:, 1 + t_n :])


def _conditional_rates(
    data: ModelData, sig_t: np.ndarray, sig_b: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draw logit contest shares of ballots by type given the rate block's scales."""
    pairs, inverse = np.unique(np.stack([sig_t, sig_b]), axis=1, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    _, mean, q_chol = _gaussian_block(
        data.rate_y[:, None], data.rate_var[:, None, None], _rate_design(data),
        _rate_scales(data, pairs[0]), pairs[1] ** 2, np.eye(1),
    )
    rb = _draw_gaussian(mean[inverse], q_chol[inverse], rng)
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
    design = _share_design(data)
    y = _share_y(data)

    def share_lik(sig_t: np.ndarray, sig_b: np.ndarray):
        return _gaussian_block(y, data.noise, design, _share_scales(data, sig_t), sig_b**2, _corr(d))

    sig_t, sig_b, w, _ = _grid_posterior(share_lik, pr.type_sd, pr.batch_sd)
    pick = rng.choice(w.size, size=draws, p=w)
    mu, alpha, delta = _conditional_shares(data, sig_t[pick], sig_b[pick], rng)
    rho = rate_sb = None
    diag: dict[str, Any] = {
        "engine": "fast",
        "grid_points": int(w.size),
        "grid_effective_points": float(1.0 / (w**2).sum()),
    }
    if data.has_rate:
        r_design = _rate_design(data)

        def rate_lik(sig_t: np.ndarray, sig_b: np.ndarray):
            return _gaussian_block(
                data.rate_y[:, None], data.rate_var[:, None, None], r_design, _rate_scales(data, sig_t),
                sig_b**2, np.eye(1),
            )

        r_st, r_sb, r_w, _ = _grid_posterior(rate_lik, pr.rate_type_sd, pr.rate_batch_sd)
        r_pick = rng.choice(r_w.size, size=draws, p=r_w)
        rho = _conditional_rates(data, r_st[r_pick], r_sb[r_pick], rng)
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
# NUTS engine (PyMC; nutpie when installed)
# ---------------------------------------------------------------------------
_COMPILED: dict[tuple, Any] = {}


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
    noise = np.zeros((n * d, n * d))
    for i in range(n):
        noise[i * d : i * d + d, i * d : i * d + d] = data.noise[i]
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
    from their exact conditional posterior for every NUTS draw.  The model's
    shape depends only on which blocks are present; the data (of any number of
    batches) flows through ``pm.Data``, so one compiled model serves every
    release and every contest.
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


def _data_updates(data: ModelData) -> dict[str, np.ndarray]:
    mats = _collapsed_matrices(data)
    up = {k: mats[k] for k in ("y", "F", "B", "I_C")} if data.y.shape[0] else {}
    if data.has_rate:
        up.update({k: mats[k] for k in ("rate_y", "rate_F", "rate_B")})
        up["rate_I"] = np.eye(data.rate_y.size)
    return up


def _shape_key(data: ModelData) -> tuple:
    return (bool(data.y.shape[0]), data.has_rate)


def fit_nuts(
    data: ModelData,
    *,
    draws: int,
    rng: np.random.Generator,
    chains: int = 2,
    tune: int = 500,
    target_accept: float = 0.9,
) -> Posterior:
    """Fit the model with NUTS (nutpie if installed, else PyMC's sampler).

    NUTS samples the collapsed model's scales; leans and drifts are then drawn
    exactly from their conditional posterior, draw by draw.  The compiled model
    is cached by shape (which blocks are present), so refitting after a new
    release, or for another contest, only swaps the data.
    """
    per_chain = max(int(np.ceil(draws / chains)), 100)
    seed = int(rng.integers(2**31 - 1))
    key = _shape_key(data)
    try:
        import nutpie
    except ImportError:  # pragma: no cover - exercised only without nutpie
        nutpie = None
    if nutpie is not None:
        compiled = _COMPILED.get(key)
        if compiled is None:
            compiled = nutpie.compile_pymc_model(_pymc_model(data))
            _COMPILED[key] = compiled
        compiled = compiled.with_data(**_data_updates(data))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            idata = nutpie.sample(
                compiled, draws=per_chain, tune=tune, chains=chains, cores=chains, seed=seed,
                progress_bar=False, target_accept=target_accept, save_warmup=False,
            )
        sampler = "nutpie"
    else:  # pragma: no cover
        import pymc as pm

        with _pymc_model(data):
            idata = pm.sample(
                draws=per_chain, tune=tune, chains=chains, cores=1, random_seed=seed,
                progressbar=False, target_accept=target_accept,
            )
        sampler = "pymc"
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

    names = [v for v in ("sigma_type", "sigma_batch", "rate_sigma_type", "rate_sigma_batch") if v in idata.posterior]
    summ = az.summary(idata, var_names=names, kind="diagnostics")
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
