"""Simulation-based calibration: synthetic counts from a known process (not the model's prior).

Each case draws a count from `racecast.synthetic` (batch types counted in a realistic
order, log-normal batch sizes, drift, wrong outstanding estimates; optionally heavy
tails, curved drift and biased estimates), cuts it at a random release, forecasts,
and compares with the truth.  A 90% interval must hold the true final share 85-95% of
the time, and the win probabilities must beat "the current leader wins" (Brier).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import racecast
from racecast.evaluation.synthetic import synthetic_count
from racecast.model import Priors


def _score(n: int, *, seed: int, misspecified: bool, engine: str = "fast", n_candidates: int = 2, **kwargs):
    rng = np.random.default_rng(seed)
    cover, brier, leader = [], [], []
    for i in range(n):
        s = synthetic_count(rng, misspecified=misspecified, n_candidates=n_candidates)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", racecast.RacecastWarning)
            fc = racecast.forecast(s.count, seed=i, engine=engine, draws=1000, **kwargs)
        fs = fc.final_share
        truth = s.final_share
        cover.extend(((fs["lower"].to_numpy() <= truth) & (truth <= fs["upper"].to_numpy())).tolist())
        won = np.eye(n_candidates)[np.argmax(s.final_votes)]
        lead = np.eye(n_candidates)[np.argmax(s.count.totals.to_numpy())]
        brier.append(float(((fc.win_probability.to_numpy() - won) ** 2).sum()))
        leader.append(float(((lead - won) ** 2).sum()))
    return float(np.mean(cover)), float(np.mean(brier)), float(np.mean(leader))


@pytest.mark.slow
@pytest.mark.parametrize("misspecified", [False, True], ids=["well-specified", "misspecified"])
def test_90_percent_intervals_cover_85_to_95_percent_and_beat_the_leader(misspecified):
    # The synthetic world has no revisions, lumped types or unseen types: the model's own
    # machinery is held to it without the terms learned from real counts.
    coverage, brier, leader = _score(
        200, seed=2024 + misspecified, misspecified=misspecified, priors=Priors.model_only()
    )
    assert 0.85 <= coverage <= 0.95, coverage
    assert brier < leader, (brier, leader)


@pytest.mark.slow
def test_calibration_holds_with_three_candidates():
    # The model's own machinery, as above (the learned unseen-type floor over-covers a
    # world whose late types follow the hierarchy: 0.96 with Priors())
    coverage, brier, leader = _score(
        100, seed=7, misspecified=False, n_candidates=3, priors=Priors.model_only()
    )
    assert 0.85 <= coverage <= 0.95, coverage
    assert brier < leader


@pytest.mark.slow
def test_a_model_without_batch_variation_fails_the_same_check():
    """The check has teeth: ignoring batch-to-batch variation and outstanding error undercovers."""
    coverage, _, _ = _score(
        200, seed=2024, misspecified=False, priors=Priors(batch_sd=0.005, drift_sd=1e-4), outstanding_sd=0.0
    )
    assert coverage < 0.85, coverage


def _pit(fc: racecast.Forecast, truth: float) -> float:
    """Where the true final share of the first candidate falls in the forecast's draws (0-1)."""
    draws = fc.final_draws
    return float(np.mean(draws[:, 0] / draws.sum(axis=1) < truth))


@pytest.mark.slow
def test_nuts_engine_is_calibrated_too():
    """NUTS is as calibrated as the fast engine on the same misspecified counts, up to Monte Carlo error.

    The fast engine forecasts 200 misspecified two-candidate counts: its 90% intervals
    hold the truth 85-95% of the time and it beats the leader (as in the test above).
    NUTS forecasts the first ``n = 50`` of them with the same seeds.  Calibration is
    then compared *paired*, count by count, which needs far fewer NUTS forecasts than
    estimating its coverage afresh (a binomial sd of ``sqrt(0.9 * 0.1 / n)``, 0.04 for
    50 counts): both engines see the same truth, so their difference is Monte Carlo
    noise and whatever NUTS does differently.  Per count ``i``, with ``u`` where the truth
    falls in a forecast's draws (its PIT; the 90% interval holds the truth when
    ``0.05 <= u <= 0.95``):

    * ``|u_nuts - 0.5| - |u_fast - 0.5|``: > 0 when NUTS's distribution is too narrow
      (the truth further out in its tails), < 0 when too wide;
    * ``u_nuts - u_fast``: NUTS's distribution shifted against the fast engine's;
    * the difference in interval coverage (0 or +-1) and in Brier score.

    The mean of each difference over the ``n`` counts is within ``K = 3`` of its standard
    error, ``sd(differences) / sqrt(n)``, computed from the differences themselves
    (four checks, a false alarm for pure noise below 1.1% in all).  The Monte Carlo sd
    of one PIT difference is at most about 0.02 (1,000 draws per engine), so the checks
    catch a NUTS whose intervals are a few percent too narrow or too wide, which a
    direct coverage estimate could not: shrinking NUTS's posterior type leans by 10%
    (intervals 7% narrower) fails the width check at 4 sds while NUTS's coverage over
    the 50 counts is still 0.90.  NUTS's own coverage is also checked against its
    binomial band, ``0.90 +- 3 sqrt(0.9 * 0.1 / n)``.
    """
    n_fast, n_nuts, k_sigma = 200, 50, 3.0
    rng = np.random.default_rng(99)
    cover = {"fast": [], "nuts": []}
    brier = {"fast": [], "nuts": []}
    pit = {"fast": [], "nuts": []}
    leader = []
    for i in range(n_fast):
        s = synthetic_count(rng, misspecified=True, n_candidates=2)
        won = np.eye(2)[np.argmax(s.final_votes)]
        leader.append(float(((np.eye(2)[np.argmax(s.count.totals.to_numpy())] - won) ** 2).sum()))
        for engine in ("fast", "nuts") if i < n_nuts else ("fast",):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", racecast.RacecastWarning)
                fc = racecast.forecast(s.count, seed=i, engine=engine, draws=1000)
            lower, upper = fc.final_share.iloc[0][["lower", "upper"]]
            cover[engine].append(float(lower <= s.final_share[0] <= upper))
            brier[engine].append(float(((fc.win_probability.to_numpy() - won) ** 2).sum()))
            pit[engine].append(_pit(fc, s.final_share[0]))
    fast = {
        name: np.array(v)
        for name, v in (("cover", cover["fast"]), ("brier", brier["fast"]), ("pit", pit["fast"]))
    }
    assert 0.85 <= fast["cover"].mean() <= 0.95, fast["cover"].mean()
    assert fast["brier"].mean() < np.mean(leader)

    u_nuts, u_fast = np.array(pit["nuts"]), fast["pit"][:n_nuts]
    paired = {
        "tail distance (width)": np.abs(u_nuts - 0.5) - np.abs(u_fast - 0.5),
        "PIT shift": u_nuts - u_fast,
        "coverage": np.array(cover["nuts"]) - fast["cover"][:n_nuts],
        "Brier": np.array(brier["nuts"]) - fast["brier"][:n_nuts],
    }
    for what, d in paired.items():
        se = d.std(ddof=1) / np.sqrt(n_nuts)
        assert abs(d.mean()) <= k_sigma * se, (what, d.mean(), se)
    coverage = np.mean(cover["nuts"])
    assert abs(coverage - 0.9) <= k_sigma * np.sqrt(0.9 * 0.1 / n_nuts), coverage
