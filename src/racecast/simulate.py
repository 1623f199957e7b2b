"""Simulate the outstanding count batch by batch from the posterior.

For each posterior draw and each outstanding batch type:

1. the outstanding amount is uncertain: it is scaled by a mean-one log-normal
   factor with relative sd ``outstanding_sd`` (registrars' estimates are often
   10-20% off), log-Student-t with ``Priors.outstanding_df``, and wider for a stale
   estimate ([`outstanding_factor`][racecast.simulate.outstanding_factor]);
2. it is split into ``m`` batches of the type's typical size (the median size of
   the type's counted batches, or of all batches for a type not yet counted);
3. with jurisdiction ballots, each batch's ballots become contest votes at the
   type's share of ballots ``expit(rho_t + sigma_rate * e)``, batch by batch;
4. each batch gets its own lean: ``alpha_t + x_j * delta_t + sigma_batch * e_j``
   at its position ``x_j`` along the type (drift), including the batch-to-batch
   variation, not only the type mean; ``alpha_t`` carries the remainder shift, the
   lean of the count's mix of places (``Priors.place_sd``) and,
   for a type not counted yet (or a lumped type counted in one batch), the
   heavier-tailed deviation of a new kind of ballots, when
   [`Priors`][racecast.Priors] asks for them ([`type_lean`][racecast.simulate.type_lean]);
5. its votes are a multinomial draw with those shares.

The sum over batches added to the counted totals, with the counted totals revised
when [`Priors`][racecast.Priors] asks ([`revise`][racecast.simulate.revise]), gives one
simulated final count per draw.  Every term of [`Priors`][racecast.Priors] set to
``None`` draws no random number, so forecasts without them are unchanged.

Only the type's total matters, so step 5 draws the *sum* of the type's batch
multinomials.  Given the batch shares ``p_j`` (which carry the batch-to-batch
variation) that sum has mean ``sum_j n_j p_j`` and covariance
``sum_j n_j (diag(p_j) - p_j p_j')``.  When every candidate's sampling variance
is at least :data:`CLT_MIN_VARIANCE` (a sampling sd of 100 votes or more), the sum is
drawn from that normal, rounded to whole votes (the central limit theorem: for a sum of
Bernoulli votes Berry-Esseen bounds the error of its distribution function by ``0.56 /
sd`` = 0.0056, before the much wider batch variation is added on top); otherwise, and for
any draw the normal would put outside the possible counts, they are drawn one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ._projection import draw_left, log_sd
from .model import UNTYPED_BATCH_TYPES, ModelData, Posterior, Priors
from .outstanding import Outstanding
from .wander import wander_shift

__all__ = [
    "CLT_MIN_VARIANCE",
    "MAX_BATCHES_PER_TYPE",
    "MAX_OUTSTANDING_FACTOR",
    "MAX_STALE_SD",
    "RemainingSpec",
    "outstanding_factor",
    "revise",
    "simulate_final",
    "type_lean",
]

#: Cap on simulated batches per type (beyond it batch noise has averaged out).
MAX_BATCHES_PER_TYPE = 100

#: Sampling variance (votes squared) from which a type's sum of batch multinomials is
#: drawn from its moment-matched normal instead of batch by batch (sd >= 100 votes).
CLT_MIN_VARIANCE = 10_000.0

#: Largest factor, either way, by which a heavy-tailed (log-Student-t) draw may scale an
#: outstanding estimate (a log-t has no mean without a bound).
MAX_OUTSTANDING_FACTOR = 10.0

#: Largest relative sd a stale estimate is widened to (``outstanding_sd * published / left``).
MAX_STALE_SD = 1.0


@dataclass(frozen=True)
class RemainingSpec:
    """What is left to count, by batch type, in the count's outstanding unit.

    ``published`` holds the amount as published when it is larger than ``amount`` (a stale
    estimate less what was counted since): its error is carried over in absolute terms, so
    the relative sd of what is left grows by ``published / amount`` (at most to
    [`MAX_STALE_SD`][racecast.simulate.MAX_STALE_SD]).  ``projected`` holds ``(E, C)`` for a
    projected amount, drawn exactly as ``T - C`` given ``T > C`` (``racecast._projection``).
    """

    amount: dict[str, float]
    unit: str  # "ballots" or "votes"
    outstanding_sd: float
    published: dict[str, float] = field(default_factory=dict)
    projected: dict[str, tuple[float, float]] = field(default_factory=dict)

    @classmethod
    def of(cls, out: Outstanding, unit: str, outstanding_sd: float) -> RemainingSpec:
        """What [`resolve_outstanding`][racecast.outstanding.resolve_outstanding] found, to simulate."""
        return cls(out.amounts, unit, outstanding_sd, out.published, out.projected)


def _typical_batch_votes(data: ModelData, t: int) -> float:
    own = data.batch_votes[data.type_idx == t]
    pool = own if own.size else data.batch_votes
    return float(np.median(pool)) if pool.size else float("nan")


def batch_plan(data: ModelData, t: int) -> tuple[int, np.ndarray]:
    """Number of simulated batches of type ``t`` and their drift positions."""
    hint = data.remaining_votes_hint[t]
    size = _typical_batch_votes(data, t)
    m = (
        10
        if not np.isfinite(size) or size <= 0
        else int(np.clip(round(hint / size), 1, MAX_BATCHES_PER_TYPE))
    )
    counted = data.counted_by_type[t]
    total = counted + hint
    x = (counted + (np.arange(m) + 0.5) * hint / m) / total - 0.5 if total > 0 else np.zeros(m)
    return m, x


def outstanding_factor(
    spec: RemainingSpec, name: str, priors: Priors, size: int, rng: np.random.Generator
) -> np.ndarray:
    """``(S,)`` factors scaling the outstanding amount of type ``name``.

    ``exp(s * z - s^2 / 2)`` with ``s = sqrt(log(1 + sd^2))`` (the log-normal of relative
    sd ``sd``, mean one) and ``z`` standard normal, or Student-t with
    ``priors.outstanding_df`` degrees of freedom (same scale, heavier tails; its log
    is truncated to a factor of :data:`MAX_OUTSTANDING_FACTOR` either way, since a
    log-t has no mean).  ``sd`` is ``spec.outstanding_sd``, widened for a stale
    estimate (see [`RemainingSpec`][racecast.simulate.RemainingSpec]).
    """
    rel = spec.outstanding_sd
    amount = float(spec.amount.get(name, 0.0))
    if name in spec.projected and amount > 0:
        expected, counted = spec.projected[name]
        return draw_left(expected, counted, rel, size, rng) / amount
    published = float(spec.published.get(name, amount))
    if amount > 0 and published > amount:
        rel = max(rel, min(rel * published / amount, MAX_STALE_SD))
    s = log_sd(rel)
    df = priors.outstanding_df
    if df is None:
        return np.exp(s * rng.standard_normal(size) - 0.5 * s**2)
    bound = np.log(MAX_OUTSTANDING_FACTOR)
    z = np.clip(s * rng.standard_t(df, size) - 0.5 * s**2, -bound, bound)
    return np.exp(z)


def type_lean(
    data: ModelData, post: Posterior, t: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``(S, K)`` lean and drift scores of what is still to count of type ``t``.

    The posterior's ``alpha_t`` and ``delta_t``, with these changes when
    [`Priors`][racecast.Priors] asks for them:

    * a type with no counted batch and no prior from history: its deviation from the contest
      mean ``alpha_t - mu`` (exactly ``N(0, sigma_type^2 C)`` given the scales, since it does
      not enter the likelihood) becomes ``sqrt(sigma_type^2 + floor^2) / sigma_type`` times
      larger (``unseen_type_floor``) and, with ``unseen_type_df``, a multivariate Student-t
      (the normal times ``sqrt(df / chi2_df)``, one draw per posterior draw);
    * a ``mixed`` or ``unspecified`` type counted in one batch only, with no prior
      from history: what is left of it may be other kinds of ballots altogether, and
      one batch shows nothing of how its ballots vary, so its lean is the counted
      lean plus the deviation of a kind of ballots not seen yet (the same spread and
      tails as above, drawn anew) instead of the remainder shift.  From its second
      batch the count's own batch-to-batch variation and drift speak, and the shift
      below applies;
    * the remainder shift per candidate score, ``N(0, remainder_sd^2)`` for a typed
      batch type and ``N(0, untyped_remainder_sd^2)`` for a ``mixed`` or
      ``unspecified`` one: the rest of a type does not come to agree with the counted
      part as it shrinks (its weight in the final share does shrink with it);
    * with ``Priors.place_sd``, the lean of the count's mix of places (``racecast.model.place``).
    """
    pr = data.priors
    alpha, delta = post.alpha[:, t], post.delta[:, t]
    s, k = alpha.shape
    lumped = data.types[t] in UNTYPED_BATCH_TYPES
    place = 0.0 if post.place_shift is None else post.place_shift  # the count's mix of places
    new_kind = pr.unseen_type_floor or pr.unseen_type_df
    if new_kind and not data.history_covered[t]:
        if data.counted_by_type[t] <= 0:
            sig = np.maximum(post.sigma_type, 1e-12)
            widen = _new_kind_sd(post, pr, rng) / sig
            return post.mu + (alpha - post.mu) * widen[:, None] + _shift(pr, lumped, s, k, rng) + place, delta
        if lumped and np.count_nonzero(data.type_idx == t) == 1:
            return alpha + _new_kind_sd(post, pr, rng)[:, None] * rng.standard_normal((s, k)) + place, delta
    lean = alpha + _shift(pr, lumped, s, k, rng)
    if pr.wander_sd:  # off: no plan, no draws, no zeros added on the hot path
        lean = lean + wander_shift(data, post, t, batch_plan(data, t)[1], rng)
    return lean + place, delta


def _new_kind_sd(post: Posterior, pr: Priors, rng: np.random.Generator) -> np.ndarray:
    """``(S,)`` sd of the lean of a kind of ballots not seen yet around a known lean.

    ``sqrt(sigma_type^2 + unseen_type_floor^2)``, times ``sqrt(df / chi2_df)`` with
    ``unseen_type_df`` (a scale mixture: the Student-t), one draw per posterior draw.
    """
    sd = np.sqrt(post.sigma_type**2 + (pr.unseen_type_floor or 0.0) ** 2)
    if pr.unseen_type_df:
        sd = sd * np.sqrt(pr.unseen_type_df / rng.chisquare(pr.unseen_type_df, sd.size))
    return np.maximum(sd, 1e-12)


def _shift(pr: Priors, lumped: bool, s: int, k: int, rng: np.random.Generator) -> np.ndarray | float:
    """``(S, K)`` remainder shift (``untyped_remainder_sd`` or ``remainder_sd``), or 0 when off."""
    shift_sd = pr.untyped_remainder_sd if lumped else pr.remainder_sd
    return shift_sd * rng.standard_normal((s, k)) if shift_sd else 0.0


def revise(final: np.ndarray, counted: np.ndarray, priors: Priors, rng: np.random.Generator) -> np.ndarray:
    """Final totals with revisions of the counted votes (``revision_rel``, ``revision_abs``).

    Each candidate's counted total ``c`` moves by an independent ``N(0, sd^2)``,
    ``sd = revision_rel * c + revision_abs * sqrt(c)``, rounded to whole votes;
    totals are clipped at 0 (a draw whose every total would be 0 keeps its totals).
    Without revisions ``final`` is returned unchanged (and no random number is drawn).
    """
    if not priors.revises:
        return final
    c = counted.astype(float)
    sd = (priors.revision_rel or 0.0) * c + (priors.revision_abs or 0.0) * np.sqrt(c)
    change = np.rint(sd[None, :] * rng.standard_normal(final.shape)).astype(np.int64)
    revised = np.maximum(final + change, 0)
    empty = revised.sum(axis=1) == 0  # a tiny count revised to nothing: keep it as simulated
    revised[empty] = final[empty]
    return revised


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
        ``(S, K)`` simulated final totals (int64, non-negative; at least ``counted``
        unless [`Priors`][racecast.Priors] lets counted votes be revised).
    added : numpy.ndarray
        ``(S, T)`` simulated votes added by type (before revisions).
    """
    s = post.n_draws
    final = np.tile(counted.astype(np.int64), (s, 1))
    added = np.zeros((s, data.n_types))
    for t, name in enumerate(data.types):
        amount = float(spec.amount.get(name, 0.0))
        if amount <= 0:
            continue
        m, x = batch_plan(data, t)
        scale = outstanding_factor(spec, name, data.priors, s, rng)
        per_batch = (amount * scale / m)[:, None] * np.ones((1, m))
        if spec.unit == "ballots":
            assert post.rho is not None
            assert post.rate_sigma_batch is not None
            logit = post.rho[:, t, None] + post.rate_sigma_batch[:, None] * rng.standard_normal((s, m))
            per_batch = per_batch * _expit(logit)
        n = np.rint(per_batch).astype(np.int64)
        alpha, delta = type_lean(data, post, t, rng)
        got = _batch_votes(n, alpha, delta, x, post.sigma_batch, rng)
        final += got
        added[:, t] = got.sum(axis=1)
    return revise(final, counted, data.priors, rng), added


def _batch_votes(
    n: np.ndarray,
    alpha: np.ndarray,
    delta: np.ndarray,
    x: np.ndarray,
    sigma_batch: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """``(S, K)`` votes of ``m`` batches of sizes ``n`` (S, m) at positions ``x``, summed.

    Batch leans ``alpha + x_j delta + sigma_batch e_j``.  Shares are a softmax, which
    ignores a shift common to all candidates, so ``e_j`` needs no centring.
    """
    s, m = n.shape
    k = alpha.shape[1]
    if k == 2:
        # softmax of two scores = expit of their difference; the batch deviation's
        # difference e_j1 - e_j2 ~ Normal(0, 2); a two-way multinomial is a binomial
        lean = alpha[:, 0] - alpha[:, 1]
        drift = delta[:, 0] - delta[:, 1]
        diff = lean[:, None] + x[None, :] * drift[:, None]
        diff += (np.sqrt(2.0) * sigma_batch)[:, None] * rng.standard_normal((s, m))
        return _sum_of_binomials(n, _expit(diff), rng)
    scores = alpha[:, None, :] + x[None, :, None] * delta[:, None, :]
    scores += sigma_batch[:, None, None] * rng.standard_normal((s, m, k))
    scores -= scores.max(axis=-1, keepdims=True)
    p = np.exp(scores)
    p /= p.sum(axis=-1, keepdims=True)
    return _sum_of_multinomials(n, p, rng)


def _expit(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` in one buffer (no temporaries: this runs on every draw of every batch)."""
    out = np.negative(x)
    np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def _sum_of_binomials(n: np.ndarray, p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``(S, 2)`` sums over batches of ``Binomial(n[:, j], p[:, j])`` and their complements.

    Rows whose sampling variance reaches :data:`CLT_MIN_VARIANCE` get the normal of the
    same mean and variance, rounded; the others (and any normal draw outside
    ``[0, n.sum()]``) are drawn batch by batch.
    """
    total = n.sum(axis=1)
    if total.max() < 4 * CLT_MIN_VARIANCE:  # a binomial's variance is at most n / 4
        first = rng.binomial(n, p).sum(axis=1)
        return np.stack([first, total - first], axis=1)
    mean = (n * p).sum(axis=1)
    var = (n * (p * (1.0 - p))).sum(axis=1)

    def normal(rows: np.ndarray) -> np.ndarray:
        return np.rint(mean[rows] + np.sqrt(var[rows]) * rng.standard_normal(rows.size))[:, None]

    def exact(rows: np.ndarray) -> np.ndarray:
        first = rng.binomial(n[rows], p[rows]).sum(axis=1)
        return np.stack([first, total[rows] - first], axis=1)

    return _normal_or_exact(total, var >= CLT_MIN_VARIANCE, 2, normal, exact)


def _sum_of_multinomials(n: np.ndarray, p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``(S, K)`` sums over batches ``j`` of ``Multinomial(n[:, j], p[:, j, :])``.

    Rows in which every candidate's sampling variance reaches :data:`CLT_MIN_VARIANCE`
    get the moment-matched multivariate normal of the first ``K - 1`` candidates,
    rounded, the last candidate taking the rest; the others (and any normal draw with
    a count outside ``[0, n.sum()]``) are drawn batch by batch.
    """
    k = p.shape[2]
    total = n.sum(axis=1)
    if total.max() < 4 * CLT_MIN_VARIANCE:  # each candidate's variance is at most n / 4
        return rng.multinomial(n, p).sum(axis=1)
    nf = n.astype(float)
    mean = np.matmul(nf[:, None, :], p)[:, 0, :]
    second = np.matmul(np.swapaxes(p, 1, 2), nf[:, :, None] * p)  # sum_j n_j p_j p_j'
    var = mean - np.diagonal(second, axis1=1, axis2=2)

    def normal(rows: np.ndarray) -> np.ndarray:
        cov = -second[rows, : k - 1, : k - 1]
        cov[:, np.arange(k - 1), np.arange(k - 1)] += mean[rows, : k - 1]
        noise = np.matmul(np.linalg.cholesky(cov), rng.standard_normal((rows.size, k - 1, 1)))[:, :, 0]
        return np.rint(mean[rows, : k - 1] + noise)

    def exact(rows: np.ndarray) -> np.ndarray:
        return rng.multinomial(n[rows], p[rows]).sum(axis=1)

    return _normal_or_exact(total, var.min(axis=1) >= CLT_MIN_VARIANCE, k, normal, exact)


def _normal_or_exact(
    total: np.ndarray,
    use_normal: np.ndarray,
    k: int,
    normal: Callable[[np.ndarray], np.ndarray],
    exact: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """``(S, K)`` counts, each row summing to ``total``.

    Where ``use_normal``, ``normal(rows)`` gives the first ``K - 1`` counts (the last takes
    the rest); ``exact(rows)`` gives all ``K`` counts of the other rows and of any normal
    draw with a count outside ``[0, total]``.
    """
    got = np.zeros((len(total), k), np.int64)
    rows = np.flatnonzero(use_normal)
    if rows.size:
        head = normal(rows)
        draw = np.concatenate([head, total[rows, None] - head.sum(axis=1, keepdims=True)], axis=1)
        inside = ((draw >= 0) & (draw <= total[rows, None])).all(axis=1)
        got[rows[inside]] = draw[inside]
        use_normal = use_normal.copy()
        use_normal[rows[~inside]] = False
    rest = np.flatnonzero(~use_normal)
    if rest.size:
        got[rest] = exact(rest)
    return got
