"""A projection of the final total on a real count: the LA County 2022 ballot with its estimates removed.

Needs ``../shared/data/la_county_2022`` beside the repository (skipped, saying so, without it).
The county published what was outstanding; here that is removed and a projection of the
county's final ballots, 15% low or 15% high, is given before the first release instead: the
case of a feed that publishes nothing, with a projection that turns out wrong. Scored on the
competitive contests (final margin under 10 points), as ``benchmarks/projection_real.py``
scores the whole ballot.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import racecast
from racecast.evaluation import calibration as cal
from racecast.evaluation.ballot_replay import replay_ballot

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "la_county_2022"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (SHARED / "results.csv").is_file(),
        reason="needs ../shared/data/la_county_2022 (results, releases and contests) beside the repository",
    ),
]


def _competitive(ballot: racecast.Ballot) -> list[str]:
    """Contested contests whose final margin is under ``COMPETITIVE_MARGIN``, from the last release."""
    out = []
    for name in ballot.contests:
        final = ballot.contest(name).totals
        if len(final) < 2 or final.sum() == 0:
            continue
        if cal.final_margin(ballot.rule(name), final) < cal.COMPETITIVE_MARGIN:
            out.append(name)
    return out


def _projected(ballot: racecast.Ballot, factor: float) -> racecast.Ballot:
    n = len(ballot.release_ids)
    expected = np.full(n, np.nan)
    expected[0] = factor * float(np.nanmax(ballot.ballots_counted))
    return dataclasses.replace(
        ballot,
        outstanding=ballot.outstanding.iloc[:, :0],
        outstanding_total=np.full(n, np.nan),
        expected_total=expected,
    )


@pytest.fixture(scope="module", params=[0.85, 1.15], ids=["15% low", "15% high"])
def replayed(request) -> tuple[float, pd.DataFrame]:
    ballot = racecast.read_ballot(SHARED)
    contests = _competitive(ballot)
    assert len(contests) > 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        replay = replay_ballot(
            _projected(ballot, request.param), contests=contests, seed=2020, engine="fast", processes=2
        )
    return request.param, replay.rows


def test_a_wrong_projection_keeps_90_percent_intervals_near_90_percent(replayed):
    coverage = cal.summary(replayed[1])["coverage"].iloc[0]
    assert 0.85 <= coverage <= 0.97


def test_a_wrong_projection_keeps_every_stage_of_the_count_at_80_percent_or_more(replayed):
    stages = cal.coverage_by_stage(replayed[1]).set_index("stage")["coverage"]
    assert (stages >= 0.80).all(), stages.to_dict()


def test_a_low_projection_does_not_call_counts_complete(replayed):
    """The clipped rule, max(E - C, 0), made 25 confident wrong calls with a projection 15% low (9 now)."""
    factor, rows = replayed
    if factor >= 1:
        pytest.skip("a projection that is high never runs out")
    assert cal.summary(rows)["wrong_calls"].iloc[0] <= 15
