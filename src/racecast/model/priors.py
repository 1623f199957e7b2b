"""The prior scales of the batch-type model and its simulation terms: [`Priors`][racecast.Priors].

What is learned from completed counts and what is hand-set, what ``None`` turns off, and
what each scale means: ``docs/model.md``.  numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from ..errors import ForecastInputError

__all__ = ["HAND_SET_SCALES", "Priors", "simulation_terms"]


_ZERO_ALLOWED = frozenset({"place_sd"})
"""Scales whose 0 means "off" rather than an impossible prior."""

HAND_SET_SCALES: dict[str, float] = {
    "type_sd": 0.5,
    "batch_sd": 0.2,
    "batch_size_floor": 1.0,
    "place_sd": 0.0,
}
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
    place_sd
        Prior sd (score scale, per candidate score) of a *place's* lean, shared by every
        batch type: a batch from place ``p`` (the count's ``place`` column) leans
        ``alpha_t + u_p``, ``u_p ~ N(0, place_sd^2)`` (``racecast.model.place``).  A batch
        with no place is the mix of the count's places by counted votes, and what is still
        to count a Dirichlet mix around it.  A count with no ``place`` column is unchanged
        at any value; ``0`` turns place effects off (racecast 0.1).  Hand-set at 0.5, like
        ``drift_sd``: on the NYT 2020 feed it halves the Brier and brings every stage's
        coverage above 0.86, and on the held-out counts of other elections it improves the
        Brier and removes the one confident wrong call, but the library's log score of the
        final margin prefers 0 (``docs/model.md``, *Place effects*).
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
    place_sd: float = 0.5
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
        if not (isinstance(self.place_sd, (int, float)) and 0.0 <= self.place_sd < np.inf):
            raise ForecastInputError(
                f"Priors.place_sd must be a finite number >= 0 (0: no place effect), got {self.place_sd!r}"
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

    def invalid_scales(self) -> dict[str, float]:
        """The numeric fields outside their range: every scale positive and finite.

        ``place_sd`` may also be 0 (no place effects); ``None`` (a term off) is not a
        number and never invalid.  [`forecast`][racecast.forecast] refuses priors with any.
        """
        return {
            k: v
            for k, v in vars(self).items()
            if isinstance(v, (int, float))
            and not isinstance(v, bool)
            and not (0 <= v < np.inf if k in _ZERO_ALLOWED else 0 < v < np.inf)
        }

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
