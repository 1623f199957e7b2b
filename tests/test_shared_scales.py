"""Learning the model's scales across the contests of a ballot (racecast.share_scales)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import racecast
from racecast.evaluation.ballot_replay import replay_ballot
from racecast.shared_scales import HYPER_GRID, MIN_CONTESTS

TYPES = ("early_mail", "vote_center", "late_mail")


def contest(
    rng: np.random.Generator,
    i: int,
    type_sd: float,
    batch_sd: float,
    outstanding: int | None = 40_000,
    drift_sd: float = 0.0,
) -> racecast.Count:
    """Two candidates, three types of four 20,000-vote batches; the last type half counted.

    Each type's lean moves linearly from its first batch to its last by ``N(0, drift_sd^2)``
    per candidate score (the model's drift ``delta_t``; batch ``j`` of four sits at
    ``(j + 0.5) / 4 - 0.5``).
    """
    base = rng.normal(0.0, 0.3, 2)
    shift = rng.normal(0.0, type_sd, (3, 2))
    drift = rng.normal(0.0, drift_sd, (3, 2))
    rows, totals, release = [], np.zeros(2, int), 0
    for t, name in enumerate(TYPES):
        for j in range(4 if t < 2 else 2):
            x = (j + 0.5) / 4 - 0.5
            score = base + shift[t] + x * drift[t] + rng.normal(0.0, batch_sd, 2)
            p = np.exp(score) / np.exp(score).sum()
            totals = totals + rng.multinomial(20_000, p)
            release += 1
            rows += [
                {"release": release, "batch_type": name, "candidate": c, "votes": int(v)}
                for c, v in zip("AB", totals, strict=True)
            ]
    left = None if outstanding is None else {"late_mail": outstanding}
    return racecast.Count.from_frame(pd.DataFrame(rows), outstanding=left, name=f"c{i}")


@pytest.fixture(scope="module")
def many() -> list[racecast.Count]:
    rng = np.random.default_rng(5)
    return [contest(rng, i, type_sd=0.05, batch_sd=0.5) for i in range(40)]


def test_scales_learned_across_contests_find_the_worlds_scales_not_the_defaults(many):
    shared = racecast.share_scales(many)
    assert shared.contests == 40
    assert 0.35 <= shared.priors.batch_sd <= 0.7, shared.priors.batch_sd  # truth 0.5, default 0.2
    assert shared.priors.type_sd <= 0.15, shared.priors.type_sd  # truth 0.05, default 0.5
    assert shared.gain > 0
    assert "type_sd" not in shared.at_bound
    assert "batch_sd" not in shared.at_bound
    # only the three scales change
    scales = ("type_sd", "batch_sd")  # a count in votes has no turnout block to learn
    rest = {k: v for k, v in vars(shared.priors).items() if k not in scales}
    assert rest == {k: v for k, v in vars(racecast.Priors()).items() if k not in scales}
    assert shared.turnout_contests == 0
    assert "rate_type_sd" not in shared.to_dict()  # not learned: not reported as learned


def test_a_different_world_gives_different_scales():
    rng = np.random.default_rng(6)
    calm = racecast.share_scales([contest(rng, i, type_sd=0.6, batch_sd=0.03) for i in range(40)])
    assert calm.priors.batch_sd <= 0.1, calm.priors.batch_sd
    assert calm.priors.type_sd >= 0.3, calm.priors.type_sd


def test_too_few_contests_keep_the_given_priors_and_say_so(many):
    given = racecast.Priors(batch_sd=0.3)
    shared = racecast.share_scales(many[: MIN_CONTESTS - 1], given)
    assert shared.priors is given
    assert (shared.contests, shared.gain) == (MIN_CONTESTS - 1, 0.0)


def test_a_contest_that_cannot_be_forecast_is_skipped_with_its_reason(many):
    bare = contest(np.random.default_rng(1), 99, 0.1, 0.1, outstanding=None)  # nothing says what is left
    shared = racecast.share_scales([*many[:10], bare])
    assert shared.contests == 10
    assert len(shared.skipped) == 1
    assert shared.skipped[0].startswith("c99: ")
    assert shared.to_dict()["skipped"] == 1


def test_learned_scales_stay_on_the_search_grid(many):
    shared = racecast.share_scales(many)
    assert shared.priors.batch_sd in HYPER_GRID.tolist()
    assert shared.priors.type_sd in HYPER_GRID.tolist()


def test_a_replay_with_shared_scales_uses_only_what_was_counted_by_each_release():
    ballot = racecast.read_ballot(racecast.example_path("la_county_2022"))
    names = ["SHERIFF", "SAN MARINO CITY GENERAL MUNICIPAL ELECTION - MEASURE Z"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        full = replay_ballot(ballot, contests=names, seed=3, draws=300, shared_scales=True)
        early = replay_ballot(ballot.as_of(5), contests=names, seed=3, draws=300, shared_scales=True)
        single = replay_ballot(ballot, contests=names, seed=3, draws=300)
    cols = ["contest", "release", "candidate", "probability", "lower", "upper"]
    # releases 1-4 were forecast from the same data and the same learned scales
    a = full.rows[full.rows["release"] <= 4][cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, early.rows[cols].reset_index(drop=True))
    assert full.settings["shared_scales"] is True
    assert not np.allclose(full.rows["upper"], single.rows["upper"])  # the scales were used


def test_the_likelihoods_can_be_computed_on_an_executor_with_the_same_result(many):
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2) as pool:
        on_pool = racecast.share_scales(many, executor=pool)
    here = racecast.share_scales(many)
    assert vars(on_pool.priors) == vars(here.priors)
    assert (on_pool.contests, on_pool.gain) == (here.contests, here.gain)


def test_the_turnout_scales_are_learned_once_the_contest_mean_prior_holds_small_contests():
    """Contests counted in ballots share the turnout block's scales too (the LA slice, release 6).

    With the earlier ``rate_mu_sd`` 1.5 a contest holding ~0.5% of the county's ballots
    (logit about -5) is three sd out, and the type spread runs to the top of the grid to
    absorb it; with the default it is learned inside the grid, small (types carry votes
    at about the same rate).
    """
    now = racecast.read_ballot(racecast.example_path("la_county_2022")).as_of(6)
    counts = [now.contest(c) for c in now.contests]
    shared = racecast.share_scales(counts)
    assert shared.priors.rate_type_sd < racecast.Priors().rate_type_sd
    assert shared.priors.rate_batch_sd in HYPER_GRID.tolist()
    assert not {"rate_type_sd", "rate_batch_sd"} & set(shared.at_bound)
    assert shared.to_dict()["rate_type_sd"] == shared.priors.rate_type_sd
    assert shared.turnout_contests == shared.contests  # every contest of the slice is counted in ballots
    misplaced = racecast.share_scales(counts, racecast.Priors(rate_mu_sd=1.5))
    assert misplaced.priors.rate_type_sd == HYPER_GRID[-1]
    assert "rate_type_sd" in misplaced.at_bound
