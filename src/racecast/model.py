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
  (votes / ballots) follows the same hierarchy on the logit scale by type.

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
    t_n, k = data.n_types, data.n_candidates
    d = k - 1
    corr = np.eye(d) + np.ones((d, d))
    n = data.y.shape[0]
    ones = np.ones(n)
    # blocks: 0 = mu, 1..T = alpha_t - mu, T+1..2T = delta_t
    design = [(np.zeros(n, np.int64), ones), (1 + data.type_idx, ones), (1 + t_n + data.type_idx, data.x)]

    def share_lik(sig_t: np.ndarray, sig_b: np.ndarray):
        scales = np.empty((sig_t.size, 1 + 2 * t_n))
        scales[:, 0] = pr.mu_sd
        scales[:, 1 : 1 + t_n] = sig_t[:, None]
        scales[:, 1 + t_n :] = pr.drift_sd
        return _gaussian_block(data.y, data.noise, design, scales, sig_b**2, corr)

    sig_t, sig_b, w, (_, mean, q_chol) = _grid_posterior(share_lik, pr.type_sd, pr.batch_sd)
    pick = rng.choice(w.size, size=draws, p=w)
    z = rng.standard_normal((draws, (1 + 2 * t_n) * d))
    beta = mean[pick] + np.linalg.solve(np.swapaxes(q_chol[pick], -1, -2), z[..., None])[..., 0]
    beta = beta.reshape(draws, 1 + 2 * t_n, d)
    mu = beta[:, 0]
    alpha = mu[:, None, :] + beta[:, 1 : 1 + t_n]
    delta = beta[:, 1 + t_n :]
    rho = rate_sb = None
    diag: dict[str, Any] = {
        "engine": "fast",
        "grid_points": int(w.size),
        "grid_effective_points": float(1.0 / (w**2).sum()),
    }
    if data.has_rate:
        m = data.rate_y.size
        known = data.rate_type_idx >= 0
        r_design = [(np.zeros(m, np.int64), np.ones(m)), (1 + np.where(known, data.rate_type_idx, 0), known.astype(float))]

        def rate_lik(sig_t: np.ndarray, sig_b: np.ndarray):
            scales = np.empty((sig_t.size, 1 + t_n))
            scales[:, 0] = pr.rate_mu_sd
            scales[:, 1:] = sig_t[:, None]
            return _gaussian_block(
                data.rate_y[:, None], data.rate_var[:, None, None], r_design, scales, sig_b**2, np.eye(1)
            )

        _, r_sb, r_w, (_, r_mean, r_chol) = _grid_posterior(rate_lik, pr.rate_type_sd, pr.rate_batch_sd)
        r_pick = rng.choice(r_w.size, size=draws, p=r_w)
        rz = rng.standard_normal((draws, 1 + t_n))
        rb = r_mean[r_pick] + np.linalg.solve(np.swapaxes(r_chol[r_pick], -1, -2), rz[..., None])[..., 0]
        rho = rb[:, :1] + rb[:, 1:]
        rate_sb = r_sb[r_pick]
        diag["rate_grid_effective_points"] = float(1.0 / (r_w**2).sum())
    return Posterior(
        alpha=_alr_to_scores(alpha),
        delta=_alr_to_scores(delta),
        sigma_batch=sig_b[pick],
        sigma_type=sig_t[pick],
        mu=_alr_to_scores(mu),
        rho=rho,
        rate_sigma_batch=rate_sb,
        engine="fast",
        diagnostics=diag,
    )


# ---------------------------------------------------------------------------
# NUTS engine (PyMC; nutpie when installed)
# ---------------------------------------------------------------------------
_COMPILED: dict[tuple, Any] = {}


def _pymc_model(data: ModelData):
    """The PyMC model.  Its shape depends only on (K, T, has_rate); the number of
    batches and spans flows through ``pm.Data`` so one compiled model serves every
    release of a count."""
    import pymc as pm
    import pytensor.tensor as pt

    pr = data.priors
    k, t_n = data.n_candidates, data.n_types
    d = k - 1
    coords = {"candidate": list(data.candidates), "batch_type": list(data.types)}
    with pm.Model(coords=coords) as model:
        y = pm.Data("y", data.y)
        noise = pm.Data("noise", data.noise)
        tidx = pm.Data("type_idx", data.type_idx)
        x = pm.Data("x", data.x)
        mu = pm.ZeroSumNormal("mu", sigma=pr.mu_sd, dims="candidate")
        sigma_type = pm.HalfNormal("sigma_type", sigma=pr.type_sd)
        z = pm.ZeroSumNormal("z_type", sigma=1.0, dims=("batch_type", "candidate"), n_zerosum_axes=1)
        alpha = pm.Deterministic("alpha", mu[None, :] + sigma_type * z, dims=("batch_type", "candidate"))
        delta = pm.ZeroSumNormal("delta", sigma=pr.drift_sd, dims=("batch_type", "candidate"), n_zerosum_axes=1)
        sigma_batch = pm.HalfNormal("sigma_batch", sigma=pr.batch_sd)
        eta = alpha[tidx] + x[:, None] * delta[tidx]
        m = eta[:, :-1] - eta[:, -1:]
        if d == 1:
            sd = pt.sqrt(2.0 * sigma_batch**2 + noise[:, 0, 0])
            pm.Normal("obs", mu=m[:, 0], sigma=sd, observed=y[:, 0])
        else:
            corr = np.eye(d) + np.ones((d, d))
            cov = sigma_batch**2 * corr[None] + noise
            pm.MvNormal("obs", mu=m, cov=cov, observed=y)
        if data.has_rate:
            ry = pm.Data("rate_y", data.rate_y)
            rv = pm.Data("rate_var", data.rate_var)
            ridx = pm.Data("rate_type_idx", data.rate_type_idx)
            rho0 = pm.Normal("rho0", 0.0, pr.rate_mu_sd)
            rsig_t = pm.HalfNormal("rate_sigma_type", sigma=pr.rate_type_sd)
            rz = pm.Normal("rate_z", 0.0, 1.0, dims="batch_type")
            rho = pm.Deterministic("rho", rho0 + rsig_t * rz, dims="batch_type")
            rsig_b = pm.HalfNormal("rate_sigma_batch", sigma=pr.rate_batch_sd)
            rho_ext = pt.concatenate([rho, rho0[None]])  # index -1 -> contest mean (span of mixed types)
            pm.Normal("rate_obs", mu=rho_ext[ridx], sigma=pt.sqrt(rsig_b**2 + rv), observed=ry)
    return model


def _data_updates(data: ModelData) -> dict[str, np.ndarray]:
    up = {"y": data.y, "noise": data.noise, "type_idx": data.type_idx, "x": data.x}
    if data.has_rate:
        up.update({"rate_y": data.rate_y, "rate_var": data.rate_var, "rate_type_idx": data.rate_type_idx})
    return up


def _shape_key(data: ModelData) -> tuple:
    return (data.candidates, data.types, data.has_rate, data.priors)


def fit_nuts(
    data: ModelData,
    *,
    draws: int,
    rng: np.random.Generator,
    chains: int = 2,
    tune: int = 1000,
    target_accept: float = 0.9,
) -> Posterior:
    """Fit the model with NUTS (nutpie if installed, else PyMC's sampler).

    The compiled model is cached by shape (candidates, batch types, turnout
    block), so refitting after a new release only swaps the data.
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
                compiled,
                draws=per_chain,
                tune=tune,
                chains=chains,
                cores=chains,
                seed=seed,
                progress_bar=False,
                target_accept=target_accept,
                save_warmup=False,
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
        arr = post[name].to_numpy()
        return arr.reshape((s,) + arr.shape[2:])

    diag = _nuts_diagnostics(idata)
    diag["sampler"] = sampler
    diag["engine"] = "nuts"
    rho = flat("rho") if data.has_rate else None
    rate_sb = flat("rate_sigma_batch") if data.has_rate else None
    return Posterior(
        alpha=flat("alpha"),
        delta=flat("delta"),
        sigma_batch=flat("sigma_batch"),
        sigma_type=flat("sigma_type"),
        mu=flat("mu"),
        rho=rho,
        rate_sigma_batch=rate_sb,
        engine="nuts",
        diagnostics=diag,
        idata=idata,
    )


def _nuts_diagnostics(idata: Any) -> dict[str, Any]:
    import arviz as az

    names = [v for v in ("mu", "alpha", "delta", "sigma_type", "sigma_batch", "rho", "rate_sigma_batch")
             if v in idata.posterior]
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
