"""Learning across contests: the batch-type model's scales, fitted on every contest of a ballot.

Every contest on a ballot is counted in the same releases.  What each contest's
batches say about *direction* (who leads, how each type leans) is its own; what they
say about *size* is not: how far batch types spread apart (``sigma_type``), how
much batches of one type vary (``sigma_batch``) and how far a type's lean drifts from
its first ballot to its last (the sd of ``delta_t``, ``drift_sd``).  One contest with three batches
cannot tell these scales apart from its prior; four hundred contests counted in the
same batches can.

The model gives each of the first two a half-normal prior ([`Priors`][racecast.Priors]'s
``type_sd`` and ``batch_sd``) and the drifts a normal of sd ``drift_sd``.  Here each
contest's two scales are its own draws from those half-normals, and the half-normals'
scales and the drift sd are chosen by the marginal likelihood of all the contests'
counted batches together (empirical Bayes, type-II maximum likelihood):

    choose (s_type, s_batch, d) maximising  sum_c log ∫ p(batches_c | σ, d) HalfNormal(σ | s) dσ

Each contest's integral over its own ``(σ_type, σ_batch)`` is exact in everything
but the scales (the model is Gaussian given them:
``racecast.model.scale_log_likelihood``) and a sum over a
fixed log grid ([`SCALE_GRID`][racecast.shared_scales.SCALE_GRID]) for the scales;
``s`` is searched on [`HYPER_GRID`][racecast.shared_scales.HYPER_GRID] and ``d`` on
[`DRIFT_GRID`][racecast.shared_scales.DRIFT_GRID] (with the given ``drift_sd``).  Then every
contest is forecast with the learned scales as its prior, so a contest with few
batches borrows the spread the others show, and a contest with many is still led by
its own batches.

What is assumed, and the edges:

* Contests are exchangeable in their scales: a school board and the governor's race
  draw from one half-normal.  Their multinomial noise is modelled per contest and is
  not part of the scales, so small contests do not inflate them.
* Only counted batches enter; nothing about the final result, so the scales learned
  after release ``k`` use what was known after release ``k`` (no look-ahead in a
  replay).
* Each contest weighs the same.  A contest whose batches say nothing about a scale
  (one batch per type) has a flat likelihood in it and does not move it.
* Fewer than [`MIN_CONTESTS`][racecast.shared_scales.MIN_CONTESTS] usable contests: the given priors are kept.
* The search is bounded by [`HYPER_GRID`][racecast.shared_scales.HYPER_GRID] (0.02 to 2 on the
  score scale) and [`DRIFT_GRID`][racecast.shared_scales.DRIFT_GRID]; a learned scale at either
  end is reported as such in ``SharedScales.at_bound``.
* The drift is one sd for every contest (a normal, not a half-normal of contest
  scales: the model has no per-contest drift scale).  A type counted in one batch
  says almost nothing about it; a type counted in many batches along the count (late
  mail over four weeks) does.
* The two scales of each contest's share of the jurisdiction's ballots
  (``rate_type_sd``, ``rate_batch_sd``) are not learned here.  On the LA County
  ballot their learned type scale runs to the top of the grid: a small city holds
  ~0.5% of the county's ballots (logit about -5), far outside the contest mean's
  ``Normal(0, 1.5)``, and a large type spread is the model's only way to absorb that
  misfit of the mean.  Learning it would widen every unseen type's turnout for the
  wrong reason.
* The simulation terms (remainder shift, revisions, unseen types) are not learned
  here: they are about what the counted batches cannot show, and are learned from
  completed counts ([`learn_priors`][racecast.learn_priors]).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np

from .count import Count
from .errors import RacecastError
from .model import Priors, build_model_data, scale_log_likelihood
from .outstanding import resolve_outstanding

__all__ = ["DRIFT_GRID", "HYPER_GRID", "MIN_CONTESTS", "SCALE_GRID", "SharedScales", "share_scales"]

SCALE_GRID = np.geomspace(1e-3, 4.0, 28)
"""Values of each contest's own scale (score scale) over which its likelihood is integrated."""
HYPER_GRID = np.round(np.geomspace(0.02, 2.0, 21), 4)
"""Half-normal scales tried for each of the shared scales (log-spaced, a factor 1.26 apart)."""
DRIFT_GRID = (0.05, 0.1, 0.2, 0.4, 0.8)
"""Drift sds tried (score scale, a factor 2 apart), besides the given ``Priors.drift_sd``."""
MIN_CONTESTS = 5
"""Fewer usable contests than this: nothing is learned, the given priors are kept."""

_SCALES = ("type_sd", "batch_sd", "drift_sd")


@dataclass(frozen=True, eq=False)
class SharedScales:
    """Scales learned across the contests of a ballot (made by [`share_scales`][racecast.share_scales]).

    Attributes
    ----------
    priors : Priors
        The given priors with ``type_sd``, ``batch_sd`` and ``drift_sd`` replaced by
        the learned scales; pass it as ``priors=`` to every contest's forecast.
    contests : int
        Contests whose counted batches the scales were learned from.
    skipped : tuple of str
        Contests left out, each with the reason (e.g. nothing says what is outstanding).
    gain : float
        Mean log marginal likelihood per contest of the learned scales over the given
        ones (0 when nothing was learned): how much better the learned scales explain
        the batches.
    at_bound : tuple of str
        Learned scales at an end of [`HYPER_GRID`][racecast.shared_scales.HYPER_GRID].
    """

    priors: Priors
    contests: int
    skipped: tuple[str, ...] = ()
    gain: float = 0.0
    at_bound: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The learned scales and how they were learned, as plain values (a forecast's provenance)."""
        return {
            **{k: getattr(self.priors, k) for k in _SCALES},
            "contests": self.contests,
            "skipped": len(self.skipped),
            "gain": round(self.gain, 4),
            "at_bound": list(self.at_bound),
        }


def _grid_weights(scales: np.ndarray) -> np.ndarray:
    """``(len(scales), len(SCALE_GRID))`` half-normal masses of the grid's cells (log-uniform cells)."""
    x = SCALE_GRID[None, :]
    s = np.asarray(scales, float)[:, None]
    logw = -np.log(s) - 0.5 * (x / s) ** 2 + np.log(x)  # density of log sigma, up to a constant
    w = np.exp(logw - logw.max(axis=1, keepdims=True))
    return w / w.sum(axis=1, keepdims=True)


def _log_marginals(loglik: np.ndarray, wa: np.ndarray, wb: np.ndarray) -> np.ndarray:
    """``(A, B)`` log marginal likelihood of one contest for each pair of half-normal scales."""
    top = loglik.max()
    return np.log(np.maximum(wa @ np.exp(loglik - top) @ wb.T, 1e-300)) + top


def _drift_grid(priors: Priors) -> np.ndarray:
    return np.array(sorted({*DRIFT_GRID, priors.drift_sd}))


def _contest_loglik(count: Count, priors: Priors) -> np.ndarray:
    """``(drifts, len(SCALE_GRID), len(SCALE_GRID))`` log likelihood of the contest's batches.

    In its own two scales, at each drift sd of ``_drift_grid(priors)``.
    """
    out = resolve_outstanding(count)
    data = build_model_data(count, out.model_types(count), out.votes, priors)
    a, b = np.meshgrid(SCALE_GRID, SCALE_GRID, indexing="ij")
    drifts = _drift_grid(priors)
    at = [dataclasses.replace(data, priors=dataclasses.replace(priors, drift_sd=d)) for d in drifts]
    return np.stack([scale_log_likelihood(d, a, b) for d in at])


def _contest_loglik_or_why(count: Count, priors: Priors) -> tuple[np.ndarray | None, str]:
    try:
        return _contest_loglik(count, priors), ""
    except RacecastError as exc:
        return None, str(exc)


def share_scales(
    counts: Iterable[Count], priors: Priors | None = None, *, executor: Executor | None = None
) -> SharedScales:
    """Learn the model's scales from many contests counted in the same releases.

    Parameters
    ----------
    counts
        The contests as they stand now (e.g. every contest of a
        [`Ballot`][racecast.Ballot] with votes); contests with fewer than two
        candidates or no votes are skipped.
    priors
        The priors to start from (default [`Priors`][racecast.Priors]); only the two
        scales are replaced.
    executor
        A ``concurrent.futures`` executor to compute the contests' likelihoods on
        (default: in this process, one after the other).

    Returns
    -------
    SharedScales

    Examples
    --------
    >>> import racecast
    >>> ballot = racecast.read_ballot(racecast.example_path("la_county_2022"))
    >>> now = ballot.as_of(4)
    >>> shared = racecast.share_scales(now.contest(c) for c in now.contests)
    >>> shared.contests  # the slice's 18 contests, less the one with a single candidate
    17
    >>> 0.02 <= shared.priors.batch_sd <= 2.0
    True
    """
    base = priors or Priors()
    usable = [c for c in counts if c.n_candidates >= 2 and c.votes[-1].sum() > 0]
    mapper = executor.map if executor is not None else map
    logliks: list[np.ndarray] = []
    skipped: list[str] = []
    for count, (ll, why) in zip(usable, mapper(_contest_loglik_or_why, usable, repeat(base)), strict=True):
        if ll is None:  # the contest's own forecast will say the same
            skipped.append(f"{count.name}: {why}")
        else:
            logliks.append(ll)
    if len(logliks) < MIN_CONTESTS:
        return SharedScales(base, len(logliks), tuple(skipped))
    hyper = _grid_weights(HYPER_GRID)
    drifts = _drift_grid(base)
    total = np.sum([[_log_marginals(ll_d, hyper, hyper) for ll_d in ll] for ll in logliks], axis=0)
    d, i, j = np.unravel_index(int(np.argmax(total)), total.shape)
    ends = ((i, HYPER_GRID.size), (j, HYPER_GRID.size), (d, drifts.size))
    at_bound = tuple(n for n, (k, size) in zip(_SCALES, ends, strict=True) if k in (0, size - 1))
    given = _grid_weights(np.array([base.type_sd, base.batch_sd]))
    d0 = int(np.flatnonzero(drifts == base.drift_sd)[0])
    before = sum(float(_log_marginals(ll[d0], given[:1], given[1:])[0, 0]) for ll in logliks)
    gain = (float(total[d, i, j]) - before) / len(logliks)
    learned = dataclasses.replace(
        base, type_sd=float(HYPER_GRID[i]), batch_sd=float(HYPER_GRID[j]), drift_sd=float(drifts[d])
    )
    return SharedScales(learned, len(logliks), tuple(skipped), gain, at_bound)
