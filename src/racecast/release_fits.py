"""Releases of completed counts, each fitted once: what the learners score.

[`fit_releases`][racecast.release_fits.fit_releases] replays a completed count release
by release and fits each release once (fast engine) with the model's prior scales it is
given; [`learn_priors`][racecast.learn_priors] then simulates each fit again for every
value of the simulation terms it tries, and
[`learn_scales`][racecast.learned_scales.learn_scales] refits at each value of the
model's own scales.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .count import Count
from .errors import ForecastInputError, RacecastError
from .model import ModelData, Posterior, Priors, build_model_data, fit_fast
from .model.data import HAND_SET_SCALES, simulation_terms
from .outstanding import resolve_outstanding
from .pooling import pool_candidates
from .settings import DEFAULT_OUTSTANDING_SD
from .simulate import RemainingSpec

__all__ = ["MODEL_SCALES", "ReleaseFit", "fit_releases", "fitted_scales", "with_terms_of"]

MODEL_SCALES = tuple(HAND_SET_SCALES)
"""The model's own prior scales that a learned record names next to the simulation terms."""


@dataclass(frozen=True, eq=False)
class ReleaseFit:
    """One release of a completed count, fitted once and ready to be simulated again.

    Attributes
    ----------
    name : str
        The count's name and the release (``"<count> @ release k"``).
    count_name : str
        The count's name (each count weighs the same in the mean log score).
    data, post
        Model data and posterior draws of the release.
    counted : numpy.ndarray
        Votes counted at the release.
    spec : RemainingSpec
        What was outstanding (its ``outstanding_sd`` is replaced when scored).
    final : numpy.ndarray
        The true final totals (same candidates as ``counted``).
    pair : tuple of int
        Columns of the candidates who finished first and second.
    outstanding_share : float
        Expected outstanding votes as a share of the votes counted plus outstanding.
    seed : int
        Seed of the release's simulations (the same for every value tried).
    """

    name: str
    count_name: str
    data: ModelData
    post: Posterior
    counted: np.ndarray
    spec: RemainingSpec
    final: np.ndarray
    pair: tuple[int, int]
    outstanding_share: float
    seed: int

    @property
    def margin(self) -> float:
        """The true final margin of first over second, as a share of all votes."""
        a, b = self.pair
        return float((self.final[a] - self.final[b]) / self.final.sum())


def _final_of(
    count: Count, finals: Mapping[str, Sequence[float]] | Sequence[Sequence[float]] | None, i: int
) -> np.ndarray:
    if finals is None:
        return count.votes[-1].astype(float)
    given = finals[count.name] if isinstance(finals, Mapping) else finals[i]
    final = np.asarray(given, dtype=float)
    if final.shape != (count.n_candidates,):
        raise ForecastInputError(
            f"{count.name}: the final totals {list(final)} do not match {list(count.candidates)}"
        )
    return final


def _fit_release(
    part: Count, final: np.ndarray, pair: tuple[int, int], draws: int, seed: int, priors: Priors | None
) -> ReleaseFit:
    """Fit one release (fast engine), pooling candidates below 5% of it who did not finish in the top two."""
    names = part.candidates
    keep = (names[pair[0]], names[pair[1]])
    pooled = pool_candidates(part, 0.05, keep=keep) if part.n_candidates > 3 else part
    if pooled.candidates != names:
        index = {c: i for i, c in enumerate(names)}
        members = [c for c in names if c not in pooled.candidates]
        final = np.array(
            [
                final[index[c]] if c in index else sum(final[index[m]] for m in members)
                for c in pooled.candidates
            ]
        )
        pair = (pooled.candidates.index(keep[0]), pooled.candidates.index(keep[1]))
    out = resolve_outstanding(pooled)
    data = build_model_data(pooled, out.model_types(pooled), out.votes, priors)
    post = fit_fast(data, draws=draws, rng=np.random.default_rng(seed))
    spec = RemainingSpec.of(out, pooled.outstanding_unit, DEFAULT_OUTSTANDING_SD)
    counted = pooled.votes[-1]
    share = out.total_votes / max(out.total_votes + float(counted.sum()), 1.0)
    name = f"{part.name} @ release {int(part.release_ids[-1])}"
    return ReleaseFit(name, part.name, data, post, counted, spec, final, pair, share, seed)


def fit_releases(
    counts: Sequence[Count],
    finals: Mapping[str, Sequence[float]] | Sequence[Sequence[float]] | None = None,
    *,
    priors: Priors | None = None,
    draws: int = 400,
    seed: int = 0,
    max_releases: int | None = 30,
) -> list[ReleaseFit]:
    """Fit every release of every completed count once (see [`learn_priors`][racecast.learn_priors]).

    Releases that cannot be forecast (no batch yet, nothing said about what is
    outstanding) are skipped; with ``max_releases``, at most that many releases
    per count, evenly spaced, so that a long feed does not outweigh the others.
    ``priors`` sets the model's own prior scales (``type_sd``, ``batch_sd``, ...) of
    the fits (default [`Priors`][racecast.Priors]); its simulation terms are not used
    here, since each score simulates with the terms it is given.
    """
    fits = []
    for i, count in enumerate(counts):
        final = _final_of(count, finals, i)
        if final.sum() <= 0 or count.n_candidates < 2:
            continue
        order = np.argsort(-final, kind="stable")
        pair = (int(order[0]), int(order[1]))
        releases = np.arange(1, len(count))
        if max_releases is not None and releases.size > max_releases:
            releases = np.unique(np.linspace(1, len(count) - 1, max_releases).round().astype(int))
        for r in releases:
            part = count[:r]
            if part.votes[-1].sum() <= 0:
                continue
            try:
                fits.append(_fit_release(part, final, pair, draws, seed + 7919 * i + int(r), priors))
            except RacecastError:
                continue
    return fits


def fitted_scales(fits: Sequence[ReleaseFit]) -> Priors:
    """The model scales the releases were fitted with (one set for all of them)."""
    terms = set(simulation_terms())
    first = fits[0].data.priors
    model = {f.name: getattr(first, f.name) for f in dataclasses.fields(Priors) if f.name not in terms}
    for fit in fits:
        if any(getattr(fit.data.priors, k) != v for k, v in model.items()):
            raise ForecastInputError(
                f"{fit.name} was fitted with other model scales than {fits[0].name} "
                f"({model}); fit every release with the same Priors"
            )
    return fits[0].data.priors


def with_terms_of(scales: Priors, terms: Priors) -> Priors:
    """``scales``' model scales with ``terms``' simulation terms."""
    return dataclasses.replace(scales, **{k: getattr(terms, k) for k in simulation_terms()})
