"""Simulate the outstanding count batch by batch from the posterior.

For each posterior draw and each outstanding batch type:

1. the outstanding amount is uncertain: it is scaled by a mean-one log-normal
   factor with relative sd ``outstanding_sd`` (registrars' estimates are often
   10-20% off);
2. it is split into ``m`` batches of the type's typical size (the median size of
   the type's counted batches, or of all batches for a type not yet counted);
3. with jurisdiction ballots, each batch's ballots become contest votes at the
   type's share of ballots ``expit(rho_t + sigma_rate * e)``, batch by batch;
4. each batch gets its own lean: ``alpha_t + x_j * delta_t + sigma_batch * e_j``
   at its position ``x_j`` along the type (drift), including the batch-to-batch
   variation, not only the type mean;
5. its votes are a multinomial draw with those shares.

The sum over batches added to the counted totals gives one simulated final count
per draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import ModelData, Posterior

__all__ = ["RemainingSpec", "simulate_final", "MAX_BATCHES_PER_TYPE"]

#: Cap on simulated batches per type (beyond it batch noise has averaged out).
MAX_BATCHES_PER_TYPE = 100


@dataclass(frozen=True)
class RemainingSpec:
    """What is left to count, by batch type, in the count's outstanding unit."""

    amount: dict[str, float]
    unit: str  # "ballots" or "votes"
    outstanding_sd: float


def _typical_batch_votes(data: ModelData, t: int) -> float:
    own = data.batch_votes[data.type_idx == t]
    pool = own if own.size else data.batch_votes
    return float(np.median(pool)) if pool.size else float("nan")


def batch_plan(data: ModelData, t: int) -> tuple[int, np.ndarray]:
    """Number of simulated batches of type ``t`` and their drift positions."""
    hint = data.remaining_votes_hint[t]
    size = _typical_batch_votes(data, t)
    m = 10 if not np.isfinite(size) or size <= 0 else int(np.clip(round(hint / size), 1, MAX_BATCHES_PER_TYPE))
    counted = data.counted_by_type[t]
    total = counted + hint
    x = (counted + (np.arange(m) + 0.5) * hint / m) / total - 0.5 if total > 0 else np.zeros(m)
    return m, x


def simulate_final(
    counted: np.ndarray,
    data: ModelData,
    post: Posterior,
    spec: RemainingSpec,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulated final totals.

    Parameters
    ----------
    counted
        ``(K,)`` votes counted so far.
    data, post
        Model inputs and posterior draws.
    spec
        Outstanding amount by type.
    rng
        Random generator (the only source of randomness).

    Returns
    -------
    final : numpy.ndarray
        ``(S, K)`` simulated final totals (int64).
    added : numpy.ndarray
        ``(S, T)`` simulated votes added by type.
    """
    s, k = post.n_draws, data.n_candidates
    final = np.tile(counted.astype(np.int64), (s, 1))
    added = np.zeros((s, data.n_types))
    log_sd = np.sqrt(np.log1p(spec.outstanding_sd**2))
    for t, name in enumerate(data.types):
        amount = float(spec.amount.get(name, 0.0))
        if amount <= 0:
            continue
        m, x = batch_plan(data, t)
        scale = np.exp(log_sd * rng.standard_normal(s) - 0.5 * log_sd**2)
        per_batch = (amount * scale / m)[:, None] * np.ones((1, m))
        if spec.unit == "ballots":
            assert post.rho is not None and post.rate_sigma_batch is not None
            logit = post.rho[:, t, None] + post.rate_sigma_batch[:, None] * rng.standard_normal((s, m))
            per_batch = per_batch / (1.0 + np.exp(-logit))
        n = np.rint(per_batch).astype(np.int64)
        # Batch leans alpha_t + x_j delta_t + sigma_batch e_j.  Shares are a softmax,
        # which ignores a shift common to all candidates, so e_j needs no centring.
        if k == 2:
            # softmax of two scores = expit of their difference; the batch deviation's
            # difference e_j1 - e_j2 ~ Normal(0, 2); a two-way multinomial is a binomial
            lean = post.alpha[:, t, 0] - post.alpha[:, t, 1]
            drift = post.delta[:, t, 0] - post.delta[:, t, 1]
            diff = lean[:, None] + x[None, :] * drift[:, None]
            diff += (np.sqrt(2.0) * post.sigma_batch)[:, None] * rng.standard_normal((s, m))
            first = rng.binomial(n, 1.0 / (1.0 + np.exp(-diff))).sum(axis=1)
            got = np.stack([first, n.sum(axis=1) - first], axis=1)
        else:
            scores = post.alpha[:, t, None, :] + x[None, :, None] * post.delta[:, t, None, :]
            scores += post.sigma_batch[:, None, None] * rng.standard_normal((s, m, k))
            scores -= scores.max(axis=-1, keepdims=True)
            p = np.exp(scores)
            p /= p.sum(axis=-1, keepdims=True)
            got = rng.multinomial(n, p).sum(axis=1)
        final += got
        added[:, t] = got.sum(axis=1)
    return final, added
