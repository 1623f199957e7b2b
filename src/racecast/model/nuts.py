"""The NUTS engine: every use of PyMC, nutpie and ArviZ is in this module.

nutpie samples the collapsed model's scales through the compiled density of
[`_kernel`][racecast.model._kernel] (PyMC's own sampler runs the PyMC model when nutpie
is missing); leans and drifts are then drawn exactly given each draw of the scales.
PyMC, nutpie, ArviZ and numba are imported only when a NUTS fit runs.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from .collapsed import _SCALE_NAMES, _collapsed_matrices
from .data import ModelData, Posterior
from .gaussian import _conditional_rates, _conditional_shares

if TYPE_CHECKING:
    from ._kernel import _CollapsedDensity

__all__ = ["fit_nuts"]


def _pymc_model(data: ModelData) -> Any:
    """The PyMC model, collapsed over its Gaussian parameters.

    The contest mean, type leans and drifts are Gaussian given the two scales, so
    they are integrated out exactly and NUTS samples only
    ``(sigma_type, sigma_batch)`` (and the turnout block's two scales): no funnel,
    no divergences from few batches per type.  Leans and drifts are then drawn
    from their exact conditional posterior for every NUTS draw.

    This is the model's reference definition.  PyMC's sampler runs it when
    nutpie is not installed; with nutpie, ``fit_nuts`` samples the same
    log density through a closed form (``_kernel._CollapsedDensity``, tested equal
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


def _nutpie_model(density: _CollapsedDensity) -> Any:
    """A nutpie model of the collapsed density; nothing is compiled per count.

    The compiled C callbacks of ``racecast.model._kernel`` are handed to nutpie
    the way ``nutpie.compile_pymc_model`` hands over PyTensor's: nutpie's
    threads call them without the GIL.  nutpie has no public entry point for
    compiled callbacks (``from_pyfunc`` calls Python on every gradient: a warm
    NUTS forecast of LA 2022 takes about ten times as long), so this fills the
    fields of its model class, which
    is why pyproject.toml pins nutpie's minor version and ``tests/test_engines.py``
    checks the fields and the draws against ``from_pyfunc``.  If this nutpie's
    model class differs anyway, nutpie calls the same kernel through Python
    (same draws, slower).
    """
    from nutpie.compile_pymc import CompiledPyMCModel

    from ._kernel import c_expand, c_logp

    names = list(density.names)
    k = len(names)
    fields = {f.name for f in dataclasses.fields(CompiledPyMCModel)}
    if fields >= _NUTPIE_FIELDS:
        user_data = np.concatenate([[density.packed.size + 1.0], density.packed])
        return CompiledPyMCModel(
            _n_dim=k,
            dims={},
            _coords={},
            _shapes=dict.fromkeys(names, ()),
            compiled_logp_func=c_logp,
            compiled_expand_func=c_expand,
            initial_point_func=density.initial_point,
            shared_data={},
            user_data=user_data,
            n_expanded=k,
            shape_info=(names, [slice(i, i + 1) for i in range(k)], [()] * k),
            logp_func=None,
            expand_func=None,
        )
    return _nutpie_pyfunc_model(density)  # pragma: no cover - other nutpie versions


#: The fields of ``nutpie.compile_pymc.CompiledPyMCModel`` that ``_nutpie_model`` fills.
_NUTPIE_FIELDS = {
    "_n_dim",
    "dims",
    "_coords",
    "_shapes",
    "compiled_logp_func",
    "compiled_expand_func",
    "initial_point_func",
    "shared_data",
    "user_data",
    "n_expanded",
    "shape_info",
    "logp_func",
    "expand_func",
}


def _nutpie_pyfunc_model(density: _CollapsedDensity) -> Any:
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
    target_accept: float = 0.9,
    cores: int | None = None,
    sampler: str | None = None,
    thin: int | None = None,
) -> Posterior:
    """Fit the model with NUTS (nutpie if installed, else PyMC's sampler).

    NUTS samples the collapsed model's scales; leans and drifts are then drawn
    exactly from their conditional posterior, draw by draw.

    With nutpie, the log density is the closed form of the collapsed model
    (``racecast.model._kernel``), whose kernel is compiled once per installation
    (cached on disk) and takes counts of any length: a new release, or another
    contest, only changes the arrays it is given, and nothing is recompiled.

    Parameters
    ----------
    data
        The model inputs (see [`build_model_data`][racecast.model.build_model_data]).
    draws
        Posterior draws to return; they are split over the chains.
    rng
        Source of the sampler's seed and of the conditional draws.
    chains, tune, target_accept
        NUTS settings.  The scales' posterior has a steep wall where
        ``sigma_batch^2`` falls below the multinomial noise of large batches; at
        ``target_accept=0.9`` (the default, and [`fit_posterior`][racecast.model.fit_posterior]'s
        first try) a chain diverges there now and then, so its retry uses smaller
        steps (``0.99``: about twice the gradient evaluations, which the compiled
        kernel makes cheap).
    cores
        Chains run in parallel (default: as many as there are chains);
        [`forecast_many`][racecast.forecast_many]'s worker processes use one.
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

    Returns
    -------
    Posterior
        Draws of every parameter; ``diagnostics`` holds R-hat, bulk and tail ESS
        of the scales and the number of divergences, ``idata`` the sampler's
        ``InferenceData``.
    """
    per_chain = max(int(np.ceil(draws / chains)), 100)
    if thin is None:
        thin = int(np.clip(np.ceil(4000 / (per_chain * chains)), 2, 8))
    seed = int(rng.integers(2**31 - 1))
    if sampler is None:
        sampler = "nutpie" if _nutpie_available() else "pymc"
    if sampler == "nutpie":
        idata = _sample_nutpie(
            data,
            draws=per_chain * thin,
            chains=chains,
            tune=tune,
            target_accept=target_accept,
            seed=seed,
            cores=cores or chains,
        )
        if thin > 1:
            idata = idata.sel(draw=slice(None, None, thin))
    elif sampler == "pymc":
        idata = _sample_pymc(
            data, draws=per_chain, chains=chains, tune=tune, target_accept=target_accept, seed=seed
        )
    else:
        raise ValueError(f"sampler must be 'nutpie' or 'pymc', got {sampler!r}")
    post = idata.posterior
    s = per_chain * chains

    def flat(name: str) -> np.ndarray:
        return post[name].to_numpy().reshape(s)

    sig_t, sig_b = flat("sigma_type"), flat("sigma_batch")
    mu, alpha, delta, place_shift = _conditional_shares(data, sig_t, sig_b, rng)
    rho = rate_sb = None
    if data.has_rate:
        rate_sb = flat("rate_sigma_batch")
        rho = _conditional_rates(data, flat("rate_sigma_type"), rate_sb, rng)
    diag = _nuts_diagnostics(idata)
    diag["sampler"] = sampler
    diag["engine"] = "nuts"
    return Posterior(
        alpha=alpha,
        delta=delta,
        sigma_batch=sig_b,
        sigma_type=sig_t,
        mu=mu,
        rho=rho,
        rate_sigma_batch=rate_sb,
        engine="nuts",
        diagnostics=diag,
        idata=idata,
        place_shift=place_shift,
    )


def _sample_nutpie(
    data: ModelData, *, draws: int, chains: int, tune: int, target_accept: float, seed: int, cores: int
) -> Any:
    """nutpie on the compiled collapsed density: ``draws`` per chain, warm-up discarded."""
    import nutpie

    from ._kernel import _CollapsedDensity

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return nutpie.sample(
            _nutpie_model(_CollapsedDensity(data)),
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            seed=seed,
            progress_bar=False,
            target_accept=target_accept,
            save_warmup=False,
        )


def _sample_pymc(
    data: ModelData, *, draws: int, chains: int, tune: int, target_accept: float, seed: int
) -> Any:
    """PyMC's own sampler on the PyMC model, one chain after the other."""
    import pymc as pm
    from threadpoolctl import threadpool_limits

    # tiny matrices: multi-threaded BLAS only adds contention
    with _pymc_model(data), threadpool_limits(1, user_api="blas"):
        return pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            cores=1,
            random_seed=seed,
            progressbar=False,
            target_accept=target_accept,
            compute_convergence_checks=False,
        )


def _nuts_diagnostics(idata: Any) -> dict[str, Any]:
    """Worst rank-normalised split R-hat, bulk and tail ESS over the sampled scales, and divergences.

    Rounded as ``arviz.summary`` reports them (R-hat to 2 decimals, ESS to whole
    draws), so an R-hat of 1.012 passes the 1.01 check, as it always has.
    """
    import arviz as az

    names = [v for v in _SCALE_NAMES if v in idata.posterior]

    def values(ds: Any) -> np.ndarray:
        return np.array([float(ds[v]) for v in names])

    r_hat = values(az.rhat(idata, var_names=names, method="rank"))
    ess_bulk = values(az.ess(idata, var_names=names, method="bulk"))
    ess_tail = values(az.ess(idata, var_names=names, method="tail"))
    stats = idata.sample_stats
    divergences = int(stats["diverging"].sum()) if "diverging" in stats else 0
    return {
        "r_hat_max": float(np.round(np.nanmax(r_hat), 2)),
        "ess_bulk_min": float(np.round(np.nanmin(ess_bulk))),
        "ess_tail_min": float(np.round(np.nanmin(ess_tail))),
        "divergences": divergences,
    }
