"""Learn the model's own prior scales (``type_sd``, ``batch_sd``) from completed counts.

[`learn_priors`][racecast.learn_priors] learns what the model does not see in a count
(the simulation terms); these two scales are the model's: how far batch types spread
and how much batches of one type vary.  A contest with one or two types, or a type with
two batches, cannot tell them from their half-normal priors, so the priors set how far
a type not counted yet may lean and how timid an early forecast is.  Unlike the
simulation terms they change the posterior of the counted batches, so every value tried
refits every release (fast engine); the criterion is the same, the mean predictive log
score of the final margin ([`mean_log_score`][racecast.learn.mean_log_score]).  The
scales and the terms are searched in turn, not jointly (``benchmarks/learn_priors.py``:
terms at the hand-set scales, then the scales, then the terms again).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from .count import Count
from .errors import ForecastInputError
from .learn import mean_log_score, score_releases
from .model import Priors
from .release_fits import ReleaseFit, fit_releases, fitted_scales, with_terms_of
from .settings import DEFAULT_OUTSTANDING_SD

__all__ = ["SCALES_GRID", "LearnedScales", "learn_scales"]

SCALES_GRID: dict[str, tuple[float, ...]] = {
    "type_sd": (0.15, 0.25, 0.35, 0.5),
    "batch_sd": (0.1, 0.2, 0.3),
    "batch_size_floor": (1.0,),
}
"""Values tried by [`learn_scales`][racecast.learned_scales.learn_scales] for the model's own prior scales
(every combination; racecast 0.1's hand-set 0.5 and 0.2 are in the grid).

``batch_size_floor`` is searched only at 1 (batch variance free of size) by default: learned
over 1, 0.6, 0.3 and 0.1 it came out at 0.1 on everything but did not hold up held out
(``docs/model.md``, *Batch size and place*; the run's record is ``docs/priors-batch-size.json``).
A newsroom whose past counts carry places passes more values, e.g.
``grid={**SCALES_GRID, "batch_size_floor": (1.0, 0.3, 0.1)}``; a tie goes to the value listed
first, so put 1 first."""


@dataclass(frozen=True, eq=False)
class LearnedScales:
    """What [`learn_scales`][racecast.learned_scales.learn_scales] found.

    Attributes
    ----------
    priors : Priors
        The simulation terms given, with the chosen model scales.
    log_score : float
        Mean log score at the chosen scales.
    table : pandas.DataFrame
        One row per combination tried: the scales, ``log_score``, ``coverage``,
        ``brier`` and ``confident_wrong`` (releases).
    """

    priors: Priors
    log_score: float
    table: pd.DataFrame

    def scales(self) -> dict[str, float]:
        """The chosen scales, by name."""
        return {name: float(getattr(self.priors, name)) for name in self.table.columns if name in SCALES_GRID}


def learn_scales(
    counts: Sequence[Count] | Mapping[tuple[float, ...], Sequence[ReleaseFit]],
    finals: Mapping[str, Sequence[float]] | Sequence[Sequence[float]] | None = None,
    *,
    priors: Priors | None = None,
    outstanding_sd: float = DEFAULT_OUTSTANDING_SD,
    grid: Mapping[str, Sequence[float]] | None = None,
    draws: int = 400,
    seed: int = 0,
    groups: Mapping[str, str] | None = None,
) -> LearnedScales:
    """Learn the model's own prior scales (``type_sd``, ``batch_sd``) from completed counts.

    The simulation terms of [`learn_priors`][racecast.learn_priors] change only what is
    simulated; these scales change the posterior of the counted batches, so each
    combination in ``grid`` refits every release (fast engine) and scores it with the
    simulation terms of ``priors`` by the same criterion, the mean predictive log score
    of the final margin ([`mean_log_score`][racecast.learn.mean_log_score]).  The
    combination with the best score wins.  Learn the simulation terms again at the
    chosen scales afterwards: the two are searched in turn, not jointly.

    Why learn them: one contest with two types cannot tell its type spread from its
    prior, so the prior sets how far a release-one forecast may move, and how timid its
    probabilities are (``docs/model.md``).

    Parameters
    ----------
    counts
        Completed counts, or releases already fitted at each combination (a mapping
        from the tuple of scale values, in ``grid``'s order, to
        [`fit_releases`][racecast.release_fits.fit_releases]' result with those scales), to
        reuse fits across calls.
    finals, outstanding_sd, draws, seed, groups
        As in [`learn_priors`][racecast.learn_priors].
    priors
        The simulation terms to score with (default [`Priors`][racecast.Priors]).
    grid
        Values per scale (default [`SCALES_GRID`][racecast.learned_scales.SCALES_GRID]); every
        combination is tried.

    Returns
    -------
    LearnedScales

    Examples
    --------
    >>> import racecast
    >>> from racecast.learned_scales import learn_scales
    >>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    >>> got = learn_scales([count], grid={"type_sd": (0.25, 0.5), "batch_sd": (0.2,)}, draws=200)
    >>> sorted(got.scales())
    ['batch_sd', 'type_sd']
    """
    grid = dict(SCALES_GRID if grid is None else grid)
    unknown = sorted(set(grid) - set(SCALES_GRID))
    if unknown:
        raise ForecastInputError(
            f"learn_scales: {unknown} are not model scales it learns ({sorted(SCALES_GRID)})"
        )
    terms = priors or Priors()
    names = list(grid)
    rows = []
    best: tuple[float, Priors] | None = None
    if not all(grid[n] for n in names):
        raise ForecastInputError(f"learn_scales: every scale needs at least one value to try, got {grid}")
    for values in itertools.product(*(tuple(float(v) for v in grid[n]) for n in names)):
        point = dict(zip(names, values, strict=True))
        if isinstance(counts, Mapping):
            if values not in counts:
                raise ForecastInputError(f"learn_scales: no fitted releases for {point}")
            fits = list(counts[values])
        else:
            scaled = dataclasses.replace(terms, **point)
            fits = fit_releases(list(counts), finals, priors=scaled, draws=draws, seed=seed)
        if not fits:
            raise ForecastInputError("learn_scales: no release of the counts given could be forecast")
        trial = with_terms_of(fitted_scales(fits), terms)
        scores = score_releases(fits, trial, outstanding_sd)
        got = mean_log_score(scores, groups)
        rows.append(
            {
                **point,
                "log_score": got,
                "coverage": float(scores["covered"].mean()),
                "brier": float(scores["brier"].mean()),
                "confident_wrong": int(scores["confident_wrong"].sum()),
            }
        )
        if best is None or got > best[0] + 1e-9:
            best = (got, trial)
    assert best is not None  # the grid has at least one combination
    return LearnedScales(best[1], best[0], pd.DataFrame(rows))
