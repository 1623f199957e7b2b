"""The two engines compute one model: the fast engine agrees with NUTS, and both are fast.

Timings are measured by ``benchmarks/run.py``, not here; these tests pin what makes the
engines fast without changing the statistics: the closed-form density NUTS samples is
PyMC's model, the vectorised pieces equal their textbook forms, one compiled kernel
serves counts of any length, and the fast path never imports PyMC.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from scipy import stats

import racecast
from racecast import model
from racecast.evaluation.synthetic import synthetic_count
from racecast.model import Posterior, _kernel, collapsed, gaussian, nuts
from racecast.model.data import _alr_obs
from racecast.simulate import RemainingSpec, simulate_final

TYPES = ("early_mail", "vote_center", "late_mail", "provisional")


def _data(count: racecast.Count) -> model.ModelData:
    types = tuple(dict.fromkeys((*count.batch_types, *TYPES)))
    return model.build_model_data(count, types, dict.fromkeys(types, 50000.0))


def _counts_for_density(la_count):
    rng = np.random.default_rng(11)
    return {
        "LA after release 4 (turnout block)": la_count[:4],
        "LA after release 9": la_count[:9],
        "synthetic, 2 candidates": synthetic_count(rng, n_candidates=2).count,
        "synthetic, 3 candidates": synthetic_count(rng, n_candidates=3).count,
        "synthetic, 5 candidates": synthetic_count(rng, n_candidates=5).count,
    }


# --------------------------------------------------------------------------- NUTS density
@pytest.mark.slow
def test_closed_form_density_is_the_pymc_models_logp_and_gradient(la_count):
    """NUTS samples the PyMC model; the compiled closed form must be that model, exactly."""
    rng = np.random.default_rng(0)
    for name, count in _counts_for_density(la_count).items():
        data = _data(count)
        density = _kernel._CollapsedDensity(data)
        pm_model = nuts._pymc_model(data)
        logp, dlogp = pm_model.compile_logp(), pm_model.compile_dlogp()
        value_names = [v.name for v in pm_model.value_vars]
        order = [value_names.index(f"{n}_log__") for n in density.names]
        for _ in range(5):
            theta = rng.uniform(-6.0, 1.0, density.n_dim)  # scales from 0.0025 to 2.7
            point = {f"{n}_log__": theta[i] for i, n in enumerate(density.names)}
            value, grad = density(theta)
            assert value == pytest.approx(float(logp(point)), rel=1e-8, abs=1e-8), name
            np.testing.assert_allclose(
                grad, np.asarray(dlogp(point))[order], rtol=1e-6, atol=1e-6, err_msg=name
            )


def test_closed_form_density_equals_the_dense_multivariate_normal(la_count):
    """Hand-checkable without PyMC: the collapsed likelihood is one multivariate normal."""
    data = _data(la_count[:4])
    density = _kernel._CollapsedDensity(data)
    mats = collapsed._collapsed_matrices(data)
    pr = data.priors
    for sig in ([0.3, 0.05, 0.2, 0.01], [0.01, 0.4, 1.5, 0.3]):
        a, b, ra, rb = sig
        dense = stats.multivariate_normal(cov=mats["F"] + a**2 * mats["B"] + b**2 * mats["I_C"]).logpdf(
            mats["y"]
        )
        m = mats["rate_y"].size
        dense += stats.multivariate_normal(
            cov=mats["rate_F"] + ra**2 * mats["rate_B"] + rb**2 * np.eye(m)
        ).logpdf(mats["rate_y"])
        sds = [pr.type_sd, pr.batch_sd, pr.rate_type_sd, pr.rate_batch_sd]
        dense += sum(stats.halfnorm(scale=s).logpdf(x) + np.log(x) for x, s in zip(sig, sds, strict=True))
        assert density(np.log(sig))[0] == pytest.approx(dense, rel=1e-9)


# --------------------------------------------------------------------------- fast engine pieces
@pytest.mark.parametrize("n_candidates", [2, 3, 5])
def test_gaussian_block_is_the_textbook_conjugate_posterior(n_candidates):
    """Vectorised scatter of the design equals y ~ N(X beta, R), beta ~ N(0, S) written densely."""
    rng = np.random.default_rng(n_candidates)
    n, t_n, d = 6, 2, n_candidates - 1
    votes = rng.integers(50, 5000, size=(n, n_candidates))
    y, noise = _alr_obs(votes)
    ti, x = rng.integers(0, t_n, n), rng.uniform(-0.5, 0.5, n)
    design = [(np.zeros(n, np.int64), np.ones(n)), (1 + ti, np.ones(n)), (1 + t_n + ti, x)]
    n_blocks = 1 + 2 * t_n
    scales = rng.uniform(0.1, 1.0, size=(3, n_blocks))
    extra = rng.uniform(0.001, 0.05, size=3)
    corr = gaussian._corr(d)
    loglik, mean, cov_sqrt = gaussian._gaussian_block(y, noise, design, scales, extra, corr)
    w = np.zeros((n, n_blocks))
    for blocks, weights in design:
        for i in range(n):
            w[i, blocks[i]] += weights[i]
    xmat = np.kron(w, np.eye(d))
    for g in range(3):
        prior = np.kron(np.diag(scales[g] ** 2), corr)
        resid = np.zeros((n * d, n * d))
        for i in range(n):
            resid[i * d : i * d + d, i * d : i * d + d] = extra[g] * corr + noise[i]
        marginal = xmat @ prior @ xmat.T + resid
        assert loglik[g] == pytest.approx(stats.multivariate_normal(cov=marginal).logpdf(y.ravel()), rel=1e-9)
        np.testing.assert_allclose(mean[g], prior @ xmat.T @ np.linalg.solve(marginal, y.ravel()), rtol=1e-8)
        post_cov = prior - prior @ xmat.T @ np.linalg.solve(marginal, xmat @ prior)
        np.testing.assert_allclose(cov_sqrt[g] @ cov_sqrt[g].T, post_cov, rtol=1e-7, atol=1e-12)
    # the grid's coarse pass asks for the likelihood alone: the same number, computed another way
    loglik_only, no_mean, no_sqrt = gaussian._gaussian_block(
        y, noise, design, scales, extra, corr, posterior=False
    )
    assert no_mean is None
    assert no_sqrt is None
    np.testing.assert_allclose(loglik_only, loglik, rtol=1e-10)


def _posterior(alpha: np.ndarray, sigma_batch: float, draws: int) -> Posterior:
    t_n, k = alpha.shape
    return Posterior(
        alpha=np.broadcast_to(alpha, (draws, t_n, k)).copy(),
        delta=np.zeros((draws, t_n, k)),
        sigma_batch=np.full(draws, sigma_batch),
        sigma_type=np.full(draws, 0.1),
        mu=np.zeros((draws, k)),
        rho=None,
        rate_sigma_batch=None,
        engine="test",
        diagnostics={},
    )


def test_two_candidate_simulation_is_the_multinomial_of_any_other_race():
    """The two-way shortcut (a binomial on the score difference) is the general multinomial path.

    A third candidate with a score 40 below the others gets no votes in practice, so the
    three-way multinomial simulation must give the same distribution of the two-way totals.
    """
    draws, sigma = 40_000, 0.15
    two = model.ModelData(
        candidates=("A", "B"),
        types=("late_mail",),
        y=np.zeros((2, 1)),
        noise=np.ones((2, 1, 1)),
        type_idx=np.zeros(2, np.int64),
        x=np.zeros(2),
        batch_votes=np.array([4000.0, 6000.0]),
        rate_y=np.zeros(0),
        rate_var=np.zeros(0),
        rate_type_idx=np.zeros(0, np.int64),
        counted_by_type=np.array([10_000.0]),
        remaining_votes_hint=np.array([30_000.0]),
    )
    three = model.ModelData(**{**two.__dict__, "candidates": ("A", "B", "C")})
    spec = RemainingSpec(amount={"late_mail": 30_000.0}, unit="votes", outstanding_sd=0.1)
    lean = np.array([[0.2, -0.2]])
    final2, _ = simulate_final(
        np.array([5000, 5000]), two, _posterior(lean, sigma, draws), spec, np.random.default_rng(1)
    )
    lean3 = np.array([[0.2, -0.2, -40.0]])
    final3, _ = simulate_final(
        np.array([5000, 5000, 0]), three, _posterior(lean3, sigma, draws), spec, np.random.default_rng(2)
    )
    assert final3[:, 2].max() == 0
    a2, a3 = final2[:, 0].astype(float), final3[:, 0].astype(float)
    se = np.sqrt(a2.var() / draws + a3.var() / draws)
    assert abs(a2.mean() - a3.mean()) < 4 * se
    assert a2.std() == pytest.approx(a3.std(), rel=0.03)
    assert stats.ks_2samp(a2, a3).pvalue > 0.001


# --------------------------------------------------------------------------- agreement
def _agreement_cases(la_count):
    rng = np.random.default_rng(2022)
    cases = {f"LA 2022 after release {k}": la_count[:k] for k in range(3, len(la_count) + 1)}
    for i in range(6):
        cases[f"synthetic #{i}"] = synthetic_count(rng, n_candidates=2 + i % 2).count
    return cases


@pytest.mark.slow
def test_fast_engine_agrees_with_nuts_on_la_2022_releases_and_synthetic_counts(la_count):
    """The two engines give the same P(win) and interval ends up to Monte Carlo error.

    Each estimate's Monte Carlo standard error comes from its own draws, by batch means:
    the draws are cut into ``B = 50`` contiguous batches (NUTS keeps its chains in order,
    so a batch holds consecutive, autocorrelated draws), the quantity is recomputed in
    each batch, and ``se = sd(batch values) / sqrt(B)``.  For P(win) of the fast engine's
    independent draws this is the binomial sd ``sqrt(p (1 - p) / draws)``; for NUTS it
    also counts the autocorrelation left after thinning.  The two engines' draws are
    independent, so the sd of their gap is ``sqrt(se_nuts**2 + se_fast**2)`` (floored at
    one NUTS draw, ``1 / draws``, the resolution of a Monte Carlo probability).

    * Every gap is within ``K = 4`` sds: about 90 comparisons (14 counts x candidates x
      P(win), lower and upper end), so a two-sided 4-sigma bound raises a false alarm
      for pure noise with probability below 1% in all (Bonferroni, 6e-5 each).
    * Pooled over the counts, the squared z-scores of the first candidate's P(win), and
      of its lower and upper ends, sum to no more than the 99.9% quantile of a
      chi-square with one degree of freedom per informative count: a small systematic
      gap that hides in each count's noise adds up here (a gap of about 1.0-1.3 sds in
      every count fails).
    * The check resolves the agreement the docs claim: ``K`` sds of every P(win) gap
      is under 0.02.  NUTS draws are the costly part, so the fast engine gets 5x as
      many (its se is then small against NUTS's).  With 20,000 NUTS draws one sd is at
      most about 0.004 in P(win) and 0.02-0.35 share points at the interval ends
      (0.35 on the widest synthetic forecasts, 0.15 or less on LA 2022).
    """
    nuts_draws, fast_draws, n_batches, k_sigma = 20_000, 100_000, 50, 4.0

    def estimates(fc: racecast.Forecast) -> tuple[np.ndarray, np.ndarray]:
        """P(win) and the interval ends (points) per candidate, ``(3, k)``, and their batch-means ses."""
        ends = 100 * fc.final_share[["lower", "upper"]].to_numpy().T
        est = np.vstack([fc.win_probability.to_numpy(), ends])
        draws = fc.final_draws

        def of(d: np.ndarray) -> np.ndarray:  # ties, which the rule splits, are too rare to move an se
            win = (np.argmax(d, axis=1)[:, None] == np.arange(d.shape[1])).mean(axis=0)
            return np.vstack([win, 100 * np.quantile(d / d.sum(axis=1, keepdims=True), [0.05, 0.95], axis=0)])

        batches = np.array([of(b) for b in np.array_split(draws, n_batches)])
        return est, batches.std(axis=0, ddof=1) / np.sqrt(n_batches)

    z_first = []  # per count: z of the first candidate's P(win), lower end, upper end
    for name, count in _agreement_cases(la_count).items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", racecast.RacecastWarning)
            nuts = racecast.forecast(count, seed=1, engine="nuts", draws=nuts_draws)
            fast = racecast.forecast(count, seed=2, engine="fast", draws=fast_draws)
        (est_n, se_n), (est_f, se_f) = estimates(nuts), estimates(fast)
        gap = est_n - est_f
        se = np.sqrt(se_n**2 + se_f**2)
        informative = se > 0
        se = np.maximum(se, np.array([[1 / nuts_draws], [1e-12], [1e-12]]))
        z = gap / se
        assert np.all(np.abs(z) <= k_sigma), (name, gap.round(4).tolist(), se.round(4).tolist())
        assert np.all(k_sigma * se[0] < 0.02), (name, "too few draws to resolve 0.02 in P(win)", se[0])
        z_first.append(np.where(informative[:, 0], z[:, 0], np.nan))
    z_first = np.array(z_first)
    for i, what in enumerate(["P(win)", "lower end", "upper end"]):
        z_i = z_first[:, i][~np.isnan(z_first[:, i])]
        limit = stats.chi2.ppf(0.999, len(z_i))
        assert np.sum(z_i**2) <= limit, (what, np.sum(z_i**2), limit, z_i.round(2).tolist())


# --------------------------------------------------------------------------- compile once
def _summary(fc: racecast.Forecast) -> dict:
    return {"win": fc.win_probability.round(12).to_dict(), "share": fc.final_share.round(12).to_dict()}


@pytest.mark.slow
def test_a_new_release_reuses_the_compiled_model_and_matches_a_fresh_process(la_count):
    """Change the number of releases between two forecasts on one compiled model (STYLE.md pitfall).

    Forecasting 4 releases, then 9, then 4 again in one process must give, for 9
    releases, exactly what a fresh process gives, and for 4 the same twice.
    """
    import nutpie

    script = textwrap.dedent(
        """
        import json, warnings, racecast
        warnings.simplefilter("ignore")
        count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
        fc = racecast.forecast(count[:9], seed=3, engine="nuts")
        print(json.dumps({"win": fc.win_probability.round(12).to_dict(),
                          "share": fc.final_share.round(12).to_dict()}))
        """
    )
    fresh = json.loads(
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        ).stdout.splitlines()[-1]
    )
    models, sample = [], nutpie.sample
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(nutpie, "sample", lambda m, **kw: models.append(m) or sample(m, **kw))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", racecast.RacecastWarning)
            first = _summary(racecast.forecast(la_count[:4], seed=3, engine="nuts"))
            nine = _summary(racecast.forecast(la_count[:9], seed=3, engine="nuts"))
            again = _summary(racecast.forecast(la_count[:4], seed=3, engine="nuts"))
    assert json.loads(json.dumps(nine)) == fresh
    assert again == first
    assert {m.compiled_logp_func for m in models} == {_kernel.c_logp}


# --------------------------------------------------------------------------- imports
def test_import_racecast_and_the_fast_engine_do_not_import_pymc():
    script = textwrap.dedent(
        """
        import json, sys, warnings
        import racecast
        heavy = ("pymc", "pytensor", "arviz", "numba", "nutpie", "distributed", "scipy.stats", "matplotlib")
        after_import = [m for m in heavy if m in sys.modules]
        count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            racecast.forecast(count[:4], seed=0, engine="fast")
            racecast.forecast_many([count[:4], count[:6]], seed=0, processes=1, progress=False)
        print(json.dumps([after_import, [m for m in heavy if m in sys.modules]]))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    after_import, after_fast = json.loads(out.stdout.splitlines()[-1])
    assert after_import == []
    assert after_fast == []


@pytest.mark.slow
def test_nuts_runs_on_pymcs_own_sampler_when_nutpie_is_missing(la_count):
    """The fallback samples the PyMC model itself; it finds the same posterior of the scales."""
    data = _data(la_count[:6])
    pymc = model.fit_nuts(data, draws=1000, rng=np.random.default_rng(0), sampler="pymc")
    nutpie = model.fit_nuts(data, draws=4000, rng=np.random.default_rng(0), sampler="nutpie")
    assert pymc.diagnostics["sampler"] == "pymc"
    assert nutpie.diagnostics["sampler"] == "nutpie"
    for name in ("sigma_type", "sigma_batch"):
        a, b = getattr(pymc, name), getattr(nutpie, name)
        assert abs(np.median(a) - np.median(b)) < 0.25 * np.std(b), name


def test_nuts_keeps_the_draws_asked_for_after_thinning(la_count):
    """NUTS samples more than it keeps; the kept draws are every thin-th, as many as asked for."""
    data = _data(la_count[:6])
    thin2 = model.fit_nuts(data, draws=600, rng=np.random.default_rng(3), thin=2)
    assert thin2.sigma_type.shape == (600,)
    assert thin2.alpha.shape[0] == 600
    default = model.fit_nuts(data, draws=600, rng=np.random.default_rng(3))
    assert default.sigma_batch.shape == (600,)
    assert default.diagnostics["ess_bulk_min"] > 0


# --------------------------------------------------------------------------- coupling to nutpie and ArviZ
def test_nutpies_model_class_has_exactly_the_fields_racecast_fills():
    """nutpie has no public entry point for compiled callbacks: its model class is filled directly.

    pyproject.toml pins nutpie's minor version; this fails first when that class changes.
    """
    from dataclasses import MISSING, fields

    from nutpie.compile_pymc import CompiledPyMCModel

    names = {f.name for f in fields(CompiledPyMCModel)}
    required = {
        f.name for f in fields(CompiledPyMCModel) if f.default is MISSING and f.default_factory is MISSING
    }
    assert names >= nuts._NUTPIE_FIELDS
    assert required <= nuts._NUTPIE_FIELDS


def test_the_compiled_callbacks_sample_what_nutpies_python_interface_samples(la_count):
    """Same kernel and seed: the C callbacks and nutpie's public ``from_pyfunc`` give the same draws.

    The same to rounding: on some CPUs the two paths round differently in the last bit
    (numba compiles for the machine, e.g. with fused multiply-adds), seen as differences
    of 1e-16 in a few draws.
    """
    import nutpie

    density = _kernel._CollapsedDensity(_data(la_count[:4]))
    compiled = nuts._nutpie_model(density)
    assert compiled.compiled_logp_func is _kernel.c_logp  # not the Python-callback fallback
    settings = {"draws": 200, "tune": 200, "chains": 2, "cores": 1, "seed": 5, "progress_bar": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        fast, slow = (nutpie.sample(m, **settings) for m in (compiled, nuts._nutpie_pyfunc_model(density)))
    assert fast.posterior.sizes["draw"] == 200
    for name in density.names:
        np.testing.assert_allclose(
            fast.posterior[name].to_numpy(), slow.posterior[name].to_numpy(), rtol=1e-9, atol=0, err_msg=name
        )


def test_nuts_diagnostics_are_arvizs_summary_and_leave_arvizs_settings_alone(la_count):
    """R-hat and ESS come from ArviZ's public functions, as ``az.summary`` reports them."""
    import arviz as az
    from arviz.utils import Numba

    flag = Numba.numba_flag
    post = model.fit_nuts(_data(la_count[:4]), draws=600, rng=np.random.default_rng(4))
    assert Numba.numba_flag == flag
    names = ["sigma_type", "sigma_batch", "rate_sigma_type", "rate_sigma_batch"]
    summary = az.summary(post.idata, var_names=names, kind="diagnostics")
    diag = post.diagnostics
    assert diag["r_hat_max"] == summary["r_hat"].max()
    assert diag["ess_bulk_min"] == summary["ess_bulk"].min()
    assert diag["ess_tail_min"] == summary["ess_tail"].min()
    assert diag["divergences"] == int(post.idata.sample_stats["diverging"].sum())
