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
from racecast.model import Priors
from racecast.evaluation.synthetic import synthetic_count


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
    coverage, brier, leader = _score(200, seed=2024 + misspecified, misspecified=misspecified)
    assert 0.85 <= coverage <= 0.95, coverage
    assert brier < leader, (brier, leader)


@pytest.mark.slow
def test_calibration_holds_with_three_candidates():
    coverage, brier, leader = _score(100, seed=7, misspecified=False, n_candidates=3)
    assert 0.85 <= coverage <= 0.95, coverage
    assert brier < leader


@pytest.mark.slow
def test_a_model_without_batch_variation_fails_the_same_check():
    """The check has teeth: ignoring batch-to-batch variation and outstanding error undercovers."""
    coverage, _, _ = _score(
        200, seed=2024, misspecified=False, priors=Priors(batch_sd=0.005, drift_sd=1e-4), outstanding_sd=0.0
    )
    assert coverage < 0.85, coverage


@pytest.mark.slow
def test_nuts_engine_is_calibrated_too():
    coverage, brier, leader = _score(200, seed=99, misspecified=True, engine="nuts")
    assert 0.85 <= coverage <= 0.95, coverage
    assert brier < leader
