"""The batch-type model: how each batch type leans, and how batches vary around it.

The maths, every prior and the scale it implies are in ``docs/model.md``; this
package is its implementation.  In short, for a release (batch) ``k`` of type
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
* optionally a prior learned from earlier counts ([`prior_from`][racecast.prior_from]) gives
  ``alpha_t - mu ~ N(m_t, s_t^2)`` for the types it covers, replacing the
  ``sigma_type * z_t`` term there (``ModelData.prior_mean`` / ``prior_sd``).

Two engines fit this one model: ``"nuts"`` samples it with NUTS (nutpie when
installed, on a compiled closed form of the PyMC model's density; else PyMC's
own sampler on the PyMC model), ``"fast"`` integrates the Gaussian parameters
exactly and the two variance parameters on an adaptive grid (the model is
conditionally Gaussian).  Both return [`Posterior`][racecast.model.Posterior] draws of the same
parameters.  Neither imports PyMC unless nutpie is missing; the fast engine
imports nothing beyond numpy and pandas.

Modules, in the order data flows through them: ``data`` (inputs and outputs),
``gaussian`` (the model's Gaussian algebra), ``fast`` (the grid engine),
``collapsed`` and ``_kernel`` (the collapsed model NUTS samples, and its compiled
density), ``nuts`` (all use of PyMC, nutpie and ArviZ), ``engines`` (NUTS checked,
retried and replaced by the fast engine on trouble).
"""

from .data import UNTYPED_BATCH_TYPES, ModelData, Posterior, Priors, build_model_data
from .engines import check_diagnostics, fit_posterior
from .fast import fit_fast, scale_log_likelihood
from .nuts import fit_nuts

__all__ = [
    "UNTYPED_BATCH_TYPES",
    "ModelData",
    "Posterior",
    "Priors",
    "build_model_data",
    "check_diagnostics",
    "fit_fast",
    "fit_nuts",
    "fit_posterior",
    "scale_log_likelihood",
]
