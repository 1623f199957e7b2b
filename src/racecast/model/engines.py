"""Run an engine: the fast one, or NUTS checked, retried once, and replaced by the fast one on trouble."""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np

from ..errors import SamplerWarning
from .data import ModelData, Posterior
from .fast import fit_fast
from .nuts import fit_nuts

__all__ = ["RETRY_TARGET_ACCEPT", "check_diagnostics", "fit_posterior"]

#: ``target_accept`` of the one NUTS retry after poor diagnostics (first try: 0.9).
RETRY_TARGET_ACCEPT = 0.99

#: The diagnostics of each NUTS attempt recorded in ``nuts_attempts``.
_RECORDED = ("r_hat_max", "ess_bulk_min", "ess_tail_min", "divergences")


def check_diagnostics(diag: dict[str, Any], *, r_hat: float = 1.01, ess: float = 400.0) -> list[str]:
    """Problems found in NUTS diagnostics (empty when fine).

    Parameters
    ----------
    diag
        A NUTS posterior's ``diagnostics`` (``r_hat_max``, ``ess_bulk_min``, ``divergences``).
    r_hat, ess
        Largest acceptable R-hat and smallest acceptable bulk ESS.

    Returns
    -------
    list of str
        One sentence per problem, e.g. ``"R-hat 1.080 > 1.01"``.
    """
    problems = []
    if diag.get("r_hat_max", 1.0) > r_hat:
        problems.append(f"R-hat {diag['r_hat_max']:.3f} > {r_hat}")
    if diag.get("ess_bulk_min", np.inf) < ess:
        problems.append(f"bulk ESS {diag['ess_bulk_min']:.0f} < {ess:.0f}")
    if diag.get("divergences", 0) > 0:
        problems.append(f"{diag['divergences']} divergent transitions")
    return problems


def fit_posterior(
    data: ModelData,
    *,
    engine: Literal["nuts", "fast"],
    draws: int,
    rng: np.random.Generator,
    name: str,
    chains: int = 2,
    tune: int = 500,
    target_accept: float = 0.9,
    retry_target_accept: float = RETRY_TARGET_ACCEPT,
    cores: int | None = None,
) -> tuple[Posterior, list[str]]:
    """Fit the model with the fast engine, or with NUTS checked.

    NUTS is checked after each fit: R-hat (<= 1.01), bulk ESS (>= 400, or half
    the draws when fewer than 800 are asked for) and divergences (none).  On
    poor diagnostics it is retried once at ``retry_target_accept``, then the
    fast engine runs instead.  An error raised by the sampler counts as trouble
    and goes straight to the fast engine.  Every attempt is recorded in the
    posterior's diagnostics under ``nuts_attempts`` (``retried`` says whether
    there was a second); a fallback sets ``engine`` to ``"fast"`` and
    ``fallback`` to the reason, and is announced with a
    [`SamplerWarning`][racecast.SamplerWarning].

    Parameters
    ----------
    data
        The model inputs.
    engine
        ``"nuts"`` or ``"fast"``.
    draws
        Posterior draws.
    rng
        All randomness comes from it.
    name
        The count's name, for the warning.
    chains, tune, target_accept, cores
        NUTS settings of the first try (see [`fit_nuts`][racecast.model.fit_nuts]).
    retry_target_accept
        ``target_accept`` of the retry.

    Returns
    -------
    tuple of (Posterior, list of str)
        The posterior, and the warnings it raised (the fallback's message, if any).
    """
    if engine == "fast":
        return fit_fast(data, draws=draws, rng=rng), []
    if engine != "nuts":
        raise ValueError(f"engine must be 'nuts' or 'fast', got {engine!r}")
    ess = min(400.0, draws / 2)
    attempts: list[dict[str, Any]] = []
    for accept in (target_accept, retry_target_accept):
        try:
            post = fit_nuts(
                data, draws=draws, rng=rng, chains=chains, tune=tune, target_accept=accept, cores=cores
            )
        except Exception as exc:  # any sampler failure is reported, then the fast engine runs
            attempts.append({"target_accept": accept, "error": f"{type(exc).__name__}: {exc}"})
            break
        problems = check_diagnostics(post.diagnostics, ess=ess)
        record = {k: post.diagnostics.get(k) for k in _RECORDED}
        attempts.append({"target_accept": accept, **record, "problems": problems})
        if not problems:
            post.diagnostics["nuts_attempts"] = attempts
            post.diagnostics["retried"] = len(attempts) > 1
            return post, []
    return _fall_back(data, draws=draws, rng=rng, name=name, attempts=attempts)


def _fall_back(
    data: ModelData, *, draws: int, rng: np.random.Generator, name: str, attempts: list[dict[str, Any]]
) -> tuple[Posterior, list[str]]:
    """The fast engine in place of NUTS, with the attempts and the reason recorded and a warning."""
    what = "; ".join(
        f"target_accept={a['target_accept']}: " + (a.get("error") or ", ".join(a["problems"]))
        for a in attempts
    )
    fast = fit_fast(data, draws=draws, rng=rng)
    reason = f"NUTS failed its checks ({what})"
    fast.diagnostics.update(
        {
            "requested_engine": "nuts",
            "fallback": reason,
            "nuts_attempts": attempts,
            "retried": len(attempts) > 1,
        }
    )
    msg = (
        f"{name}: {reason}; the forecast uses the fast engine instead (exact Gaussian integration of the "
        "same model on a grid of its two scales). Forecast.diagnostics has the details."
    )
    # _fall_back <- fit_posterior <- forecast <- the user's call
    warnings.warn(msg, SamplerWarning, stacklevel=4)
    return fast, [msg]
