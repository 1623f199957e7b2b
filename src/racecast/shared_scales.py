"""Learning across contests: the batch-type model's scales, fitted on every contest of a ballot.

Every contest on a ballot is counted in the same releases.  What each contest's
batches say about *direction* (who leads, how each type leans) is its own; what they
say about *size* is not: how far batch types spread apart (``sigma_type``) and how
much batches of one type vary (``sigma_batch``).  One contest with three batches
cannot tell these scales apart from its prior; four hundred contests counted in the
same batches can.

The model gives each scale a half-normal prior ([`Priors`][racecast.Priors]'s
``type_sd`` and ``batch_sd``).  Here each
contest's scales are its own draws from that half-normal, and the half-normal's
scale is chosen by the marginal likelihood of all the contests' counted batches
together (empirical Bayes, type-II maximum likelihood):

    choose s = (s_type, s_batch) maximising  sum_c log ∫ p(batches_c | σ) HalfNormal(σ | s) dσ

Each contest's integral over its own ``(σ_type, σ_batch)`` is exact in everything
but the scales (the model is Gaussian given them:
``racecast.model.scale_log_likelihood``) and a sum over a
fixed log grid ([`SCALE_GRID`][racecast.shared_scales.SCALE_GRID]) for the scales;
``s`` is searched on [`HYPER_GRID`][racecast.shared_scales.HYPER_GRID].  Then every
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
  score scale); a learned scale at either end is reported as such in
  ``SharedScales.at_bound``.
* The drift sd (``drift_sd``) is not learned here.  Learned the same way (one sd for
  every contest) it comes out at 0.2 on the LA ballot from its fourth release on, the
  prior's own value; at its second release, one batch of each of two types per contest,
  drift and type spread cannot be told apart, the search picks drift 0.4 with a type
  spread of 0.025, and the replay of the ballot with it shared loses coverage (0.90 ->
  0.85) and makes 6 more confident wrong calls (``docs/model.md``).
* The turnout block (each contest's share of the jurisdiction's ballots, by type)
  has its own two half-normal scales (``rate_type_sd``, ``rate_batch_sd``), learned
  the same way and separately (given the scales the two blocks' likelihoods are
  independent), from the contests counted in ballots; with fewer than
  [`MIN_CONTESTS`][racecast.shared_scales.MIN_CONTESTS] of them the given ones are
  kept.  They mean something only if the contest mean's prior (``rate_mu_sd``) holds
  the contest's share: a city holding 0.5% of the county's ballots (logit about -5)
  lies far outside a ``Normal(0, 1.5)``, and the type spread then runs to the top of
  the grid to absorb the misfit (hence ``Priors.rate_mu_sd`` 5).
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

__all__ = ["HYPER_GRID", "MIN_CONTESTS", "SCALE_GRID", "SharedScales", "share_scales"]

SCALE_GRID = np.geomspace(1e-3, 4.0, 28)
"""Values of each contest's own scale (score scale) over which its likelihood is integrated."""
HYPER_GRID = np.round(np.geomspace(0.02, 2.0, 21), 4)
"""Half-normal scales tried for each of the shared scales (log-spaced, a factor 1.26 apart)."""
MIN_CONTESTS = 5
"""Fewer usable contests than this: nothing is learned, the given priors are kept."""

_SCALES: tuple[str, str] = ("type_sd", "batch_sd")
_RATE_SCALES: tuple[str, str] = ("rate_type_sd", "rate_batch_sd")


@dataclass(frozen=True, eq=False)
class SharedScales:
    """Scales learned across the contests of a ballot (made by [`share_scales`][racecast.share_scales]).

    Attributes
    ----------
    priors : Priors
        The given priors with ``type_sd`` and ``batch_sd`` replaced by the learned
        scales (and ``rate_type_sd``, ``rate_batch_sd`` where enough
        contests are counted in ballots); pass it as ``priors=`` to every contest's
        forecast.
    contests : int
        Contests whose counted batches the scales were learned from.
    skipped : tuple of str
        Contests left out, each with the reason (e.g. nothing says what is outstanding).
    gain : float
        Mean log marginal likelihood per contest of the learned scales over the given
        ones (0 when nothing was learned): how much better the learned scales explain
        the batches (and, where learned, their share of the jurisdiction's ballots).
    at_bound : tuple of str
        Learned scales at an end of [`HYPER_GRID`][racecast.shared_scales.HYPER_GRID].
    turnout_contests : int
        Contests counted in ballots the turnout scales were learned from (0: not
        learned, the given ``rate_type_sd`` and ``rate_batch_sd`` are kept).
    """

    priors: Priors
    contests: int
    skipped: tuple[str, ...] = ()
    gain: float = 0.0
    at_bound: tuple[str, ...] = ()
    turnout_contests: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The learned scales and how they were learned, as plain values (a forecast's provenance).

        The turnout scales appear only when they were learned.
        """
        names = (*_SCALES, *_RATE_SCALES) if self.turnout_contests else _SCALES
        return {
            **{k: getattr(self.priors, k) for k in names},
            "turnout_contests": self.turnout_contests,
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


def _contest_loglik(count: Count, priors: Priors) -> tuple[np.ndarray, np.ndarray | None]:
    """The contest's log likelihood over its own scales.

    ``(len(SCALE_GRID), len(SCALE_GRID))`` for the batches' shares in
    ``(sigma_type, sigma_batch)``, and the same for its share of the jurisdiction's
    ballots in the turnout block's two scales (``None`` for a count in votes).
    """
    out = resolve_outstanding(count)
    data = build_model_data(count, out.model_types(count), out.votes, priors)
    a, b = np.meshgrid(SCALE_GRID, SCALE_GRID, indexing="ij")
    rate = scale_log_likelihood(data, a, b, rate=True) if data.has_rate else None
    return scale_log_likelihood(data, a, b), rate


def _contest_loglik_or_why(
    count: Count, priors: Priors
) -> tuple[tuple[np.ndarray, np.ndarray | None] | None, str]:
    try:
        return _contest_loglik(count, priors), ""
    except RacecastError as exc:
        return None, str(exc)


def _learn_pair(
    logliks: list[np.ndarray], names: tuple[str, str], base: Priors
) -> tuple[dict[str, float], float, tuple[str, ...]]:
    """One block's two half-normal scales by type-II ML: values, total gain over ``base``, ends hit.

    ``logliks`` are the contests' ``(len(SCALE_GRID), len(SCALE_GRID))`` log likelihoods in
    the block's own two scales (``names``, fields of ``Priors``).
    """
    hyper = _grid_weights(HYPER_GRID)
    total = np.sum([_log_marginals(ll, hyper, hyper) for ll in logliks], axis=0)
    i, j = np.unravel_index(int(np.argmax(total)), total.shape)
    given = _grid_weights(np.array([getattr(base, n) for n in names]))
    before = sum(float(_log_marginals(ll, given[:1], given[1:])[0, 0]) for ll in logliks)
    ends = tuple(n for n, k in zip(names, (i, j), strict=True) if k in (0, HYPER_GRID.size - 1))
    values = dict(zip(names, (float(HYPER_GRID[i]), float(HYPER_GRID[j])), strict=True))
    return values, float(total[i, j]) - before, ends


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
    rates: list[np.ndarray] = []
    skipped: list[str] = []
    for count, (ll, why) in zip(usable, mapper(_contest_loglik_or_why, usable, repeat(base)), strict=True):
        if ll is None:  # the contest's own forecast will say the same
            skipped.append(f"{count.name}: {why}")
        else:
            logliks.append(ll[0])
            if ll[1] is not None:
                rates.append(ll[1])
    if len(logliks) < MIN_CONTESTS:
        return SharedScales(base, len(logliks), tuple(skipped))
    scales, gain, at_bound = _learn_pair(logliks, _SCALES, base)
    turnout = 0  # contests the turnout scales are learned from (0: the given ones are kept)
    if len(rates) >= MIN_CONTESTS:  # the turnout block, from the contests counted in ballots
        rate_scales, rate_gain, rate_ends = _learn_pair(rates, _RATE_SCALES, base)
        scales, gain, at_bound = {**scales, **rate_scales}, gain + rate_gain, at_bound + rate_ends
        turnout = len(rates)
    learned = dataclasses.replace(base, **scales)
    return SharedScales(learned, len(logliks), tuple(skipped), gain / len(logliks), at_bound, turnout)
