"""Model inputs and outputs: the prior scales, the data the engines read, the posterior draws.

[`build_model_data`][racecast.model.build_model_data] turns a validated count into
[`ModelData`][racecast.model.ModelData]: observed log-ratios of each batch with their
multinomial sampling covariance, drift positions and the turnout spans.  Both engines
return a [`Posterior`][racecast.model.Posterior].
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from ..count import Count
from ..errors import ForecastInputError
from .batch_size import batch_places, batch_size_scale

__all__ = ["HAND_SET_SCALES", "UNTYPED_BATCH_TYPES", "ModelData", "Posterior", "Priors", "build_model_data"]

UNTYPED_BATCH_TYPES = frozenset({"mixed", "unspecified"})
"""Batch types that say nothing about which ballots a release held.

``mixed`` (a release lumping vote methods and places, as every NYT 2020 update) and
``unspecified`` (a Clarity feed's votes outside every vote type).  What is still to
count of such a type can be a different kind of ballot altogether (mail after
in-person, one county after another), so its remainder shift is
``Priors.untyped_remainder_sd``, not ``remainder_sd``.
"""


HAND_SET_SCALES: dict[str, float] = {"type_sd": 0.5, "batch_sd": 0.2, "batch_size_floor": 1.0}
"""racecast 0.1's hand-set ``type_sd`` and ``batch_sd`` (now learned: see [`Priors`][racecast.Priors])."""


@dataclass(frozen=True)
class Priors:
    """Prior scales of the batch-type model (see ``docs/model.md``).

    The defaults of ``type_sd`` and ``batch_sd`` and of the simulation terms
    (``remainder_sd`` to ``wander_sd``) are what [`learn_scales`][racecast.learned_scales.learn_scales]
    and [`learn_priors`][racecast.learn_priors] find on the library of real counts
    (``benchmarks/learn_priors.py``, ``docs/priors-learned.json``, each election weighing
    the same): ``type_sd`` 0.35, ``batch_sd`` 0.3, ``untyped_remainder_sd`` 0.1,
    ``revision_rel`` 3e-4, ``outstanding_df`` 8 and ``unseen_type_floor`` 0.3; the other
    terms were learned off (``None``).  ``None`` turns a term off.

    Scores are zero-sum per candidate; in a two-candidate race a score scale
    ``s`` is a log-odds scale of ``s * sqrt(2)``; near 50% one log-odds unit is
    about 25 share points.

    Attributes
    ----------
    mu_sd
        Contest-wide mean score, ``Normal(0, 1.5)``: two-candidate log-odds sd 2.1,
        any mean share from ~2% to ~98% is plausible.
    type_sd
        ``sigma_type ~ HalfNormal(0.35)``: type leans spread around the contest mean
        by ~0.28 on average (the half-normal's mean, 0.8 of its scale: about 0.4
        two-way log-odds, 10 share points), with mail/in-person splits of 2020 size in
        its tail.  Learned (racecast 0.1 set 0.5 by hand): a contest with one or two
        types cannot tell its spread from this prior, so it sets how far a type not
        counted yet may lean.
    batch_sd
        ``sigma_batch ~ HalfNormal(0.3)``: batch-to-batch variation within a type of
        ~0.24 on average (about 0.34 two-way log-odds, 8 share points).  Learned
        (racecast 0.1 set 0.2 by hand).
    drift_sd
        ``delta_t ~ Normal(0, 0.2)`` per candidate score: a type's lean may move by
        ~0.3 log-odds (about 7 points) from its first to its last ballot.  Still
        racecast 0.1's hand-set value, by evidence: learned with the other scales on the
        library's log score it comes out at 0.1 in every leave-one-out fold (2.882 vs
        2.868 on everything), but 0.1 makes the replay of the whole LA ballot over-sure
        (coverage 0.957 -> 0.939, confident wrong calls 6 -> 9) and fails two
        misspecification probes (``docs/model.md``, ``docs/priors-drift.json``).
    rate_mu_sd, rate_type_sd, rate_batch_sd
        Contest share of jurisdiction ballots on the logit scale:
        ``Normal(0, 5)`` mean, ``HalfNormal(0.3)`` between types,
        ``HalfNormal(0.2)`` between batches.  The mean's prior must hold every
        contest's share of the jurisdiction: on the LA County 2022 ballot the logit of
        votes per county ballot runs from -10 (a district holding a few thousand of
        four million ballots) to +3.5 (a countywide contest), median -4.9.  The
        earlier ``Normal(0, 1.5)`` put most contests 3 sd out, pulled a contest with
        few spans toward half the county's ballots (too many votes still to come:
        timid forecasts) and made a type spread learned across contests run to its
        bound to absorb the misfit.
    batch_size_floor
        Batch ``k`` of ``n_k`` votes has variance ``sigma_batch^2 * (floor + (1 - floor)
        * n_ref / n_k)``, ``n_ref`` the median counted batch of its type and *place* (the
        count's ``place`` column; ``racecast.model.batch_size``).  ``1`` (the default):
        no size dependence, as in racecast 0.1 and for any batch without a place.
        Learned at 0.1 on the library, not shipped: held out, the log score falls in
        three NYT states of four (``docs/model.md``, *Batch size and place*).
    remainder_sd
        Shift of the lean of what is still to count of a typed batch type
        (``late_mail``, ``vote_center``, ...) relative to what was counted (score
        scale; ``None`` turns it off).  One draw per posterior draw and type,
        ``N(0, remainder_sd^2)`` per candidate score, added to every simulated batch of
        the type so it does not average away; its weight in the final share is the
        fraction of the type still outstanding, so its effect goes to zero as the type
        is counted out.  ``0.05`` is a two-way log-odds sd of 0.07, about 1.8 share
        points of the remainder near 50%.  It does not shrink as the remainder does: the
        mean lean of the rest of a type differs from the mean of what was counted by
        the same variance however much is left, when the lean wanders along the type
        (``docs/model.md``).
    untyped_remainder_sd
        The same shift for a type in ``racecast.model.UNTYPED_BATCH_TYPES``
        (``mixed``, ``unspecified``), kept apart because the remainder of a lumped type
        may be other kinds of ballots altogether (mail after in-person, one county
        after another).  ``None`` turns it off.
    revision_rel, revision_abs
        Revisions of the votes already counted (canvass corrections, late uploads,
        cured ballots, write-ins): each candidate's counted total ``c`` gets an
        independent normal change of sd ``revision_rel * c + revision_abs * sqrt(c)``
        (``None`` turns a part off).  ``revision_rel = 0.001`` moves a candidate
        with 500,000 votes by 500 (0.1%); ``revision_abs = 1`` moves one with 400
        votes by 20.  This keeps a floor under the uncertainty when nothing is
        reported outstanding.
    outstanding_df
        Degrees of freedom of the Student-t on the log of the outstanding factor
        (``None``: the normal, i.e. the log-normal factor).  Its scale is
        ``forecast(outstanding_sd=...)`` on the log scale; ``4`` gives tails in
        which estimates off by 40% are ~3 times as likely as under the log-normal.
    unseen_type_df
        Degrees of freedom of the Student-t that the lean of a type not counted yet
        (and not covered by a prior from history) takes around the contest mean,
        with scale ``sigma_type`` (``None``: the normal of the hierarchy).  A type
        with no counted batch does not enter the likelihood, so this changes its
        draws only, not the posterior of the counted types.
    unseen_type_floor
        Score-scale sd added in quadrature to ``sigma_type`` for a type not counted
        yet (``None``: none), so that counted types that happen to agree cannot
        make a late type agree with them to within less than this.  The floor and the
        tails also govern the rest of a lumped type (``mixed``, ``unspecified``)
        counted in one batch only: it deviates from the counted lean like a type not
        counted yet (``racecast.simulate.type_lean``, ``docs/model.md``).
    wander_sd
        Prior scale of how far a type's lean wanders along it (``None``: not at all):
        ``tau ~ HalfNormal(wander_sd)``, where a Brownian motion of variance ``tau^2``
        per candidate score from the type's first ballot to its last is added to the
        straight line ``alpha_t + x delta_t``.  Its posterior comes from the type's own
        counted batches (``racecast.wander``, ``docs/model.md``): batches scattered
        around a line keep it small; a lean that has moved along the count makes the
        remainder continue from the level reached, and keep moving.  ``0.1`` lets a
        type's lean wander by ~0.14 two-way log-odds (3.5 share points) from its first
        ballot to its last before the data speak.
    """

    mu_sd: float = 1.5
    type_sd: float = 0.35
    batch_sd: float = 0.3
    drift_sd: float = 0.2
    rate_mu_sd: float = 5.0
    rate_type_sd: float = 0.3
    rate_batch_sd: float = 0.2
    batch_size_floor: float = 1.0
    remainder_sd: float | None = None
    untyped_remainder_sd: float | None = 0.1
    revision_rel: float | None = 3e-4
    revision_abs: float | None = None
    outstanding_df: float | None = 8.0
    unseen_type_df: float | None = None
    unseen_type_floor: float | None = 0.3
    wander_sd: float | None = None

    def __post_init__(self) -> None:
        floor = self.batch_size_floor
        if not (isinstance(floor, (int, float)) and 0.0 < floor <= 1.0):
            raise ForecastInputError(
                f"Priors.batch_size_floor must be in (0, 1] (1: batch variance does not depend on size), "
                f"got {floor!r}"
            )
        for name in ("outstanding_df", "unseen_type_df"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and 2 < value < np.inf):
                raise ForecastInputError(
                    f"Priors.{name} must be None (normal) or more than 2 (a finite variance), got {value!r}"
                )

    @classmethod
    def model_only(cls, **scales: float) -> Priors:
        """racecast 0.1's priors: every simulation term off, the hand-set model scales.

        The batch-type model's own world, with nothing learned from real counts: no
        remainder shift, no revisions, normal outstanding and unseen-type draws, and
        ``type_sd`` 0.5 / ``batch_sd`` 0.2 (`racecast.model.data.HAND_SET_SCALES`)
        instead of the learned defaults.  The baseline the learned defaults are measured
        against, and where learning starts.  ``scales`` sets any other field.
        """
        off: dict[str, Any] = dict.fromkeys(simulation_terms())
        return cls(**{**off, **HAND_SET_SCALES, **scales})

    @property
    def revises(self) -> bool:
        """Whether counted votes may be revised (``revision_rel`` or ``revision_abs`` set)."""
        return bool(self.revision_rel or self.revision_abs)


def simulation_terms() -> tuple[str, ...]:
    """Names of the simulation terms of [`Priors`][racecast.Priors]: its fields that ``None`` turns off.

    Read from the dataclass itself (every field typed ``float | None``), so a new term is
    known to [`Priors.model_only`][racecast.Priors.model_only] the moment it is declared
    (and a test holds ``racecast.learn.GRID`` to these names).
    """
    return tuple(f.name for f in fields(Priors) if "None" in str(f.type))


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
        batch_scale=None  # at floor 1 the places are not read
        if pr.batch_size_floor >= 1.0
        else batch_size_scale(n_votes, type_idx, batch_places(count, batches), pr.batch_size_floor),
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
