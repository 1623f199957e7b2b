"""Calibration on the real counts, each scored with priors learned without it (leave one out).

The simulation terms of [`Priors`][racecast.Priors] are learned by
``benchmarks/learn_priors.py`` and recorded per fold in ``docs/priors-learned.json``:
each NYT 2020 state with the terms learned on every other count (its five sister states
included), the Los Angeles mayoral general with those learned on NYT 2020 and the June
primary, the primary with those learned on the other two.  Each count is replayed release
by release with its fold's terms and the shipped ``outstanding_sd``, next to every term
off (racecast 0.1) in the same run, and scored as issue 14 asks: 90% coverage between
0.85 and 0.95, at least 0.80 in every stage of the count, Brier no worse than with the
terms off, and no confident wrong call on the six NYT states.

Needs ``../shared/data`` beside the repository (the NYT 2020 feed is third-party and is
read in place; it is never committed).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

import racecast
from racecast.evaluation import calibration as cal
from racecast.learned_scales import SCALES_GRID
from racecast.model.data import simulation_terms
from racecast.settings import DEFAULT_OUTSTANDING_SD

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
NYT_FILE = DATA / "nyt2020" / "battleground-state-changes.csv"
STATES = ("Alaska", "Arizona", "Georgia", "Nevada", "North Carolina", "Pennsylvania")
DRAWS, SEED = 1000, 2020

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not NYT_FILE.is_file() or not (DATA / "la_mayor_2022_primary.csv").is_file(),
        reason="needs ../shared/data (the NYT 2020 feed in nyt2020/battleground-state-changes.csv and the "
        "LA 2022 mayoral counts) next to the repository",
    ),
]


def fold_priors(label: str) -> racecast.Priors:
    """The model scales and simulation terms learned with ``label`` held out (docs/priors-learned.json)."""
    record = json.loads((REPO / "docs" / "priors-learned.json").read_text(encoding="utf-8"))
    learned = record["leave_one_out"]["folds"][label]
    return racecast.Priors(**{k: learned[k] for k in (*SCALES_GRID, *simulation_terms())})


def held_out_counts() -> list[tuple[str, str, racecast.Count]]:
    """(dataset, fold label, count) for every count scored."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        nyt = [("NYT", f"NYT 2020: {s}", racecast.read_nyt2020(NYT_FILE, state=s)) for s in STATES]
    return [
        *nyt,
        ("LA", "LA November 2022", racecast.read_count(DATA / "la_mayor_2022_general.csv")),
        ("LA", "LA June 2022 primary", racecast.read_count(DATA / "la_mayor_2022_primary.csv")),
    ]


def replay_rows(priors_of) -> pd.DataFrame:
    frames = []
    for dataset, label, count in held_out_counts():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", racecast.RacecastWarning)
            rp = racecast.replay(
                count,
                priors=priors_of(label),
                outstanding_sd=DEFAULT_OUTSTANDING_SD,
                engine="fast",
                draws=DRAWS,
                seed=SEED,
                progress=False,
            )
        frames.append(cal.calibration_rows(rp, contest=count.name).assign(dataset=dataset))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def learned() -> pd.DataFrame:
    return replay_rows(fold_priors)


@pytest.fixture(scope="module")
def terms_off() -> pd.DataFrame:
    return replay_rows(lambda _: racecast.Priors.model_only())


def test_held_out_90_percent_intervals_cover_between_85_and_95_percent(learned):
    coverage = cal.summary(learned).iloc[0]["coverage"]
    assert 0.85 <= coverage <= 0.95, coverage


def test_every_stage_of_the_count_covers_at_least_as_well_as_with_the_terms_off(learned, terms_off):
    now = cal.coverage_by_stage(learned).set_index("stage")["coverage"]
    before = cal.coverage_by_stage(terms_off).set_index("stage")["coverage"]
    assert (now >= before - 0.01).all(), (now.round(3).to_dict(), before.round(3).to_dict())
    assert now["< 1%"] >= before["< 1%"] + 0.1  # the last 1%: where racecast 0.1 collapsed


def test_every_stage_of_the_count_covers_at_least_80_percent(learned):
    # The last 1% covered ~0.70 before the place effects (North Carolina's canvass, with the
    # lumped-remainder term learned off without it); 0.82 with them (docs/calibration.md).
    stages = cal.coverage_by_stage(learned).set_index("stage")["coverage"]
    assert (stages >= 0.80).all(), stages.round(3).to_dict()


def test_learned_terms_are_no_worse_in_brier_than_terms_off(learned, terms_off):
    # The same seed, counts and forecasts; a Monte Carlo allowance of 0.002 (2,000 draws'
    # seed-to-seed sd of this mean Brier is ~0.0005).
    assert cal.brier(learned) <= cal.brier(terms_off) + 0.002, (cal.brier(learned), cal.brier(terms_off))


def test_learned_terms_make_fewer_confident_wrong_calls_than_terms_off(learned, terms_off):
    assert len(cal.confident_wrong_calls(learned)) < len(cal.confident_wrong_calls(terms_off))


def test_no_confident_wrong_call_on_the_six_nyt_states(learned, terms_off):
    """Georgia and Pennsylvania's first updates (one lumped batch) were called for Trump at 0.97-0.99.

    What is left of a lumped type counted in one batch is drawn as a kind of ballots not
    seen yet (``racecast.simulate.type_lean``); racecast 0.1 makes the calls.
    """
    assert not cal.confident_wrong_calls(terms_off[terms_off["dataset"] == "NYT"]).empty
    wrong = cal.confident_wrong_calls(learned[learned["dataset"] == "NYT"])
    assert wrong.empty, wrong[["contest", "release", "candidate", "probability"]].to_string()
