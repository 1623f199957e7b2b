"""Misspecification probes: synthetic worlds that break the model's own assumptions.

Each world draws two-candidate counts from a process racecast does not assume -- a
late type leaning against three agreeing counted types, outstanding estimates 40%
off, Student-t (3 d.f.) batches, canvass revisions of a 12-vote race reported
complete, small rural precincts counted before an urban remainder, a lean that
wanders along a type -- and scores ``N = 40`` forecasts of each (fast engine, 500
draws) against the truth, for today's defaults and for the honest terms of
[`Priors`][racecast.Priors] at the scales of ``HONEST`` (not the defaults: see
``docs/model.md``, *Honest uncertainty*).

Bounds, from the binomial Monte Carlo error of ``N`` replicates: a calibrated 90%
interval covers ``0.90 +- 3 sqrt(0.09 / N)``, so coverage must be at least
``COVERAGE_MIN = 0.90 - 3 * 0.047 = 0.76``; a calibrated forecaster's calls at >= 0.95
are wrong at most 5% of the time, so at most ``0.05 N = 2`` confident wrong calls
(measured: 0 with the honest terms in every world).  Today's defaults fail at least one
of the bounds in four of the six worlds (late type, revisions, geography, random
walk); the t3 and 40%-off worlds they pass, and those probes pin only the new terms.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

import racecast

NAMES = ["Candidate A", "Candidate B"]


@dataclass(frozen=True)
class World:
    """A count as a forecaster sees it, and its true final totals."""

    count: racecast.Count
    final_votes: np.ndarray


def _expit(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, float)))


def _count(batches: list[tuple[str, np.ndarray]], cut: int, outstanding: dict[str, float]) -> racecast.Count:
    votes = np.cumsum(np.array([v for _, v in batches[:cut]]), axis=0)
    frame = pd.DataFrame({"release": np.arange(1, cut + 1), "batch_type": [t for t, _ in batches[:cut]]})
    for i, c in enumerate(NAMES):
        frame[c] = votes[:, i]
    tidy = frame.melt(
        id_vars=["release", "batch_type"], value_vars=NAMES, var_name="candidate", value_name="votes"
    )
    tidy = tidy.sort_values(["release", "candidate"])
    return racecast.Count.from_frame(tidy, outstanding=outstanding, name="<world>")


def _batch(rng: np.random.Generator, size: int, score: float) -> np.ndarray:
    a = int(rng.binomial(size, float(_expit(score))))
    return np.array([a, size - a])


def _world(
    rng: np.random.Generator,
    batches: list[tuple[str, np.ndarray]],
    cut: int,
    error: Callable[[np.random.Generator], float] | None = None,
) -> World:
    """Cut ``batches`` after ``cut``; outstanding by type = truth times ``error`` (default 1 +- 10%)."""
    left: dict[str, float] = {}
    for t, v in batches[cut:]:
        left[t] = left.get(t, 0.0) + float(v.sum())
    err = error or (lambda g: float(np.exp(g.normal(0.0, 0.1))))
    outstanding = {t: float(np.rint(v * err(rng))) for t, v in left.items()}
    final = np.sum([v for _, v in batches], axis=0)
    return World(_count(batches, cut, outstanding), final)


def late_type_opposite(rng: np.random.Generator) -> World:
    """Three agreeing counted types; a late type ~0.6 log-odds the other way holds half the votes."""
    base = rng.choice([-1, 1]) * rng.uniform(0.1, 0.25)
    batches = []
    for t in ("early_mail", "vote_center", "election_day"):
        lean = base + rng.normal(0.0, 0.03)
        batches += [
            (t, _batch(rng, int(rng.integers(8_000, 15_000)), lean + rng.normal(0, 0.04))) for _ in range(4)
        ]
    counted = sum(int(v.sum()) for _, v in batches)
    late = base - np.sign(base) * rng.uniform(0.5, 0.7)
    n_late = 6
    batches += [
        ("late_mail", _batch(rng, counted // n_late, late + rng.normal(0, 0.04))) for _ in range(n_late)
    ]
    return _world(rng, batches, 12)


def outstanding_off(rng: np.random.Generator) -> World:
    """The published outstanding estimate is 40% off, either way (the remainder leans away from the count)."""
    shift = rng.choice([-1, 1]) * rng.uniform(0.6, 0.9)
    base = -0.45 * shift + rng.uniform(-0.1, 0.1)  # the counted part leads one way, the remainder the other
    batches = [
        ("early_mail", _batch(rng, int(rng.integers(10_000, 20_000)), base + rng.normal(0, 0.05)))
        for _ in range(6)
    ]
    batches += [
        ("late_mail", _batch(rng, int(rng.integers(10_000, 20_000)), base + shift + rng.normal(0, 0.05)))
        for _ in range(8)
    ]
    factor = 1.4 if rng.random() < 0.5 else 0.6  # the published estimate is 40% over or under what is left
    return _world(rng, batches, 7, error=lambda g: factor)


def heavy_tailed(rng: np.random.Generator) -> World:
    """Batch deviations Student-t with 3 degrees of freedom (scale 0.15 log-odds)."""
    base = rng.uniform(-0.15, 0.15)
    batches = []
    for t, shift in (("early_mail", rng.normal(0, 0.2)), ("election_day", rng.normal(0, 0.2))):
        batches += [
            (t, _batch(rng, int(rng.lognormal(9, 0.6)), base + shift + 0.15 * rng.standard_t(3)))
            for _ in range(12)
        ]
    order = [0, 1, 2, 3, 4, 5, 12, 13, 14, 6, 15, 16, 7, 8, 17, 18, 9, 10, 19, 20, 11, 21, 22, 23]
    batches = [batches[i] for i in order]
    return _world(rng, batches, int(rng.integers(5, 16)))


def revisions_after_the_last_release(rng: np.random.Generator) -> World:
    """A 12-vote race reported complete; the canvass then revises each total by ~0.2% (+- sqrt noise)."""
    n = int(rng.integers(6_000, 12_000))
    lead = 12 * rng.choice([-1, 1])
    a = (n + lead) // 2
    batches = [
        ("early_mail", np.array([a // 2, (n - a) // 2])),
        ("election_day", np.array([a - a // 2, n - a - (n - a) // 2])),
    ]
    count = _count(batches, 2, {"early_mail": 0.0, "election_day": 0.0})
    counted = np.array([a, n - a], float)
    sd = 0.002 * counted + 0.5 * np.sqrt(counted)
    final = np.maximum(np.rint(counted + sd * rng.standard_normal(2)), 0).astype(np.int64)
    return World(count, final)


def geography(rng: np.random.Generator) -> World:
    """One type counted small rural precincts first; the urban remainder leans the other way."""
    sizes = np.sort(rng.lognormal(7.5, 1.0, size=40).astype(int) + 50)
    urban = (np.log(sizes) - np.log(sizes).mean()) / np.log(sizes).std()
    base = rng.uniform(-0.1, 0.1)
    slope = rng.choice([-1, 1]) * rng.uniform(0.25, 0.4)
    batches = [
        ("election_day", _batch(rng, int(s), base + slope * u + rng.normal(0, 0.1)))
        for s, u in zip(sizes, urban, strict=True)
    ]
    return _world(rng, batches, int(rng.integers(15, 30)))


def random_walk(rng: np.random.Generator) -> World:
    """The lean of a type wanders along it (a random walk of 0.08 log-odds a batch), not a straight line."""
    base = rng.uniform(-0.15, 0.15)
    steps = np.cumsum(rng.normal(0.0, 0.08, size=30))
    batches = [
        ("early_mail", _batch(rng, int(rng.integers(3_000, 8_000)), base + rng.normal(0, 0.05)))
        for _ in range(4)
    ]
    batches += [("late_mail", _batch(rng, int(rng.integers(3_000, 8_000)), base + 0.1 + w)) for w in steps]
    return _world(rng, batches, int(rng.integers(10, 22)))


WORLDS: dict[str, Callable[[np.random.Generator], World]] = {
    "late type opposite": late_type_opposite,
    "outstanding 40% off": outstanding_off,
    "t3 batches": heavy_tailed,
    "revisions after the last release": revisions_after_the_last_release,
    "geography": geography,
    "random-walk lean": random_walk,
}


@dataclass(frozen=True)
class Score:
    """How forecasts fared over the replicates of one world."""

    coverage: float  # share of 90% intervals of A's final share holding the truth
    confident_wrong: int  # forecasts giving >= 0.95 to a candidate who lost
    brier: float
    n: int


def score(
    world: Callable[[np.random.Generator], World], n: int, *, seed: int, draws: int = 500, **kwargs: object
) -> Score:
    """Forecast ``n`` replicates of ``world`` and score them against the truth."""
    rng = np.random.default_rng(seed)
    cover, wrong, brier = [], 0, []
    for i in range(n):
        w = world(rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", racecast.RacecastWarning)
            fc = racecast.forecast(w.count, seed=i, draws=draws, engine="fast", **kwargs)  # type: ignore[arg-type]
        truth = w.final_votes[0] / w.final_votes.sum()
        lower, upper = fc.final_share.iloc[0][["lower", "upper"]]
        cover.append(lower <= truth <= upper)
        won = np.eye(2)[int(np.argmax(w.final_votes))]
        p = fc.win_probability.to_numpy()
        wrong += int(p.max() >= 0.95 and won[int(np.argmax(p))] == 0)
        brier.append(float(((p - won) ** 2).sum()))
    return Score(float(np.mean(cover)), wrong, float(np.mean(brier)), n)


N = 40
COVERAGE_MIN = 0.90 - 3 * np.sqrt(0.9 * 0.1 / N)
WRONG_MAX = int(0.05 * N)
HONEST = {
    "priors": racecast.Priors(
        remainder_sd=0.3,  # a wholly outstanding type's lean may move ~0.42 log-odds (~10 points)
        revision_rel=1e-3,  # canvass revisions: 0.1% of a candidate's votes
        revision_abs=0.5,  # plus half the Poisson noise
        outstanding_df=4,
        unseen_type_df=4,
        unseen_type_floor=0.4,  # an unseen type within ~0.57 log-odds of the contest mean, give or take
    ),
    "outstanding_sd": 0.3,
}
TODAY_FAILS = {"late type opposite", "revisions after the last release", "geography", "random-walk lean"}


@pytest.mark.parametrize("name", list(WORLDS))
def test_honest_terms_cover_and_make_no_confident_wrong_calls(name):
    got = score(WORLDS[name], N, seed=11, **HONEST)
    assert got.coverage >= COVERAGE_MIN, got
    assert got.confident_wrong <= WRONG_MAX, got


@pytest.mark.parametrize("name", sorted(TODAY_FAILS))
def test_the_model_alone_fails_the_same_probe(name):
    """racecast 0.1's simulation (every real-count term off) fails these worlds: the probes have teeth."""
    got = score(WORLDS[name], N, seed=11, priors=racecast.Priors.model_only())
    assert got.coverage < COVERAGE_MIN or got.confident_wrong > WRONG_MAX, got


SHIPPED_PASSES = {"late type opposite", "outstanding 40% off", "t3 batches"}


@pytest.mark.parametrize("name", sorted(SHIPPED_PASSES))
def test_the_shipped_defaults_pass_the_worlds_the_real_counts_support(name):
    """The learned defaults (Priors()) keep a late type from being forced to agree, and more.

    They fail the revision, geography and random-walk worlds like racecast 0.1: the real
    counts chose those terms off (docs/model.md, *Probes*).
    """
    got = score(WORLDS[name], N, seed=11)
    assert got.coverage >= COVERAGE_MIN, got
    assert got.confident_wrong <= WRONG_MAX, got


def test_agreeing_types_stay_sharp_when_nothing_unseen_is_outstanding():
    """The unseen-type terms change nothing when no type without counted votes is outstanding."""
    rng = np.random.default_rng(5)
    w = late_type_opposite(rng)
    batches = w.count
    priors = racecast.Priors.model_only(unseen_type_df=4, unseen_type_floor=0.4)
    a = racecast.forecast(
        batches, seed=1, draws=300, remaining={"late_mail": 0}, priors=racecast.Priors.model_only()
    )
    b = racecast.forecast(batches, seed=1, draws=300, remaining={"late_mail": 0}, priors=priors)
    assert np.array_equal(a.final_draws, b.final_draws)


WANDER_PASSES = {"geography", "random-walk lean"}


@pytest.mark.parametrize("name", sorted(WANDER_PASSES))
def test_a_wander_learned_from_the_count_passes_the_worlds_whose_lean_moves_along_a_type(name):
    """``Priors(wander_sd=0.3)``: the local level filtered from the count's own batches (racecast.wander).

    With the shipped defaults otherwise, it passes the two worlds the shipped defaults fail
    because the lean moves along the type; the library learns it off (docs/model.md).
    """
    got = score(WORLDS[name], N, seed=11, priors=racecast.Priors(wander_sd=0.3))
    assert got.coverage >= COVERAGE_MIN, got
    assert got.confident_wrong <= WRONG_MAX, got
