"""Model inputs and outputs: the prior scales, the data the engines read, the posterior draws.

[`build_model_data`][racecast.model.build_model_data] turns a validated count into
[`ModelData`][racecast.model.ModelData]: observed log-ratios of each batch with their
multinomial sampling covariance, drift positions and the turnout spans.  Both engines
return a [`Posterior`][racecast.model.Posterior].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..count import Count
from .batch_size import batch_places, batch_size_scale
from .place import place_design
from .priors import HAND_SET_SCALES, Priors, simulation_terms

__all__ = [
    "HAND_SET_SCALES",
    "UNTYPED_BATCH_TYPES",
    "ModelData",
    "Posterior",
    "Priors",
    "build_model_data",
    "simulation_terms",
]

UNTYPED_BATCH_TYPES = frozenset({"mixed", "unspecified"})
"""Batch types that say nothing about which ballots a release held.

``mixed`` (a release lumping vote methods and places, as every NYT 2020 update) and
``unspecified`` (a Clarity feed's votes outside every vote type).  What is still to
count of such a type can be a different kind of ballot altogether (mail after
in-person, one county after another), so its remainder shift is
``Priors.untyped_remainder_sd``, not ``remainder_sd``.
"""


@dataclass(frozen=True, eq=False)
class ModelData:
    """Everything the engines need, derived from a [`Count`][racecast.Count].

    Built by [`build_model_data`][racecast.model.build_model_data]; a pure function of the count, the batch
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
    # (n,) each batch's multiple of sigma_batch^2 (batch size within its place); None = all ones
    batch_scale: np.ndarray | None = None
    # place effects (racecast.model.place; Priors.place_sd > 0 and some batch has a place): (n, P)
    # loading of each batch on the places and (P,) the mix of places of what is still to count
    place_loading: np.ndarray | None = None
    place_weight: np.ndarray | None = None

    @property
    def n_candidates(self) -> int:
        return len(self.candidates)

    @property
    def n_types(self) -> int:
        return len(self.types)

    @property
    def has_rate(self) -> bool:
        return self.rate_y.size > 0

    @property
    def history_covered(self) -> np.ndarray:
        """``(T,)`` bool: types whose lean has a prior from history."""
        return _prior_covered(self)


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
    place_shift: np.ndarray | None = None  # (S, K) lean of the count's mix of places (Priors.place_sd)

    @property
    def n_draws(self) -> int:
        return int(self.alpha.shape[0])


def _alr_obs(votes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Empirical log-ratios vs the last candidate and their delta-method covariance."""
    smoothed = votes.astype(float) + 0.5
    y = np.log(smoothed[:, :-1]) - np.log(smoothed[:, -1:])
    d = votes.shape[1] - 1
    inv = 1.0 / smoothed
    noise = inv[:, -1, None, None] * np.ones((1, d, d)) + np.einsum("nd,de->nde", inv[:, :-1], np.eye(d))
    return y, noise


def build_model_data(
    count: Count, types: tuple[str, ...], remaining_votes_hint: dict[str, float], priors: Priors | None = None
) -> ModelData:
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
        Prior scales; defaults to [`Priors`][racecast.Priors].
    """
    pr = priors or Priors()
    batches = count.batches()
    cand = list(count.candidates)
    # column by column: much cheaper than a pandas multi-column selection
    votes = (
        np.column_stack([batches[c].to_numpy(dtype=np.int64) for c in cand])
        if len(batches)
        else np.zeros((0, len(cand)), np.int64)
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
        assert spans is not None
        span_types = [t for t, u in zip(spans["batch_type"], used, strict=True) if u]
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
    floor = pr.batch_size_floor  # places are read only for a term that uses them
    places = batch_places(count, batches) if pr.place_sd > 0 or floor < 1.0 else None
    design = place_design(places, n_votes) if places is not None and pr.place_sd > 0 else None
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
        priors=pr,
        batch_scale=None if places is None else batch_size_scale(n_votes, type_idx, places, floor),
        place_loading=None if design is None else design.loading,
        place_weight=None if design is None else design.weight,
    )


def _alr_to_scores(alr: np.ndarray) -> np.ndarray:
    """Log-ratios vs the last candidate (..., D) -> zero-sum scores (..., K)."""
    full = np.concatenate([alr, np.zeros((*alr.shape[:-1], 1))], axis=-1)
    return full - full.mean(axis=-1, keepdims=True)


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
