"""Priors in a JSON file: learned once, used again from Python and the command line."""

from __future__ import annotations

import json
import warnings

import pytest
from typer.testing import CliRunner

import racecast
from racecast.cli import EXIT_BAD_INPUT, app

from .test_cli import LA, REPO, fast

PRIORS = racecast.Priors(remainder_sd=0.05, wander_sd=0.3, unseen_type_floor=0.2)


def test_written_priors_read_back_with_their_outstanding_sd(tmp_path):
    path = racecast.write_priors(tmp_path / "p.json", PRIORS, outstanding_sd=0.3)
    assert racecast.read_priors(path) == (PRIORS, 0.3)
    assert racecast.read_priors(racecast.write_priors(tmp_path / "q.json", PRIORS)) == (PRIORS, None)


def test_what_learn_priors_returns_round_trips_with_its_learned_outstanding_sd(tmp_path):
    learned = racecast.LearnedPriors(PRIORS, 0.45, 2.8, 2.6, 100, path=None)  # type: ignore[arg-type]
    path = racecast.write_priors(tmp_path / "learned.json", learned)
    assert json.loads(path.read_text())["log_score"] == 2.8
    assert racecast.read_priors(path) == (PRIORS, 0.45)
    to_dict = tmp_path / "to_dict.json"
    to_dict.write_text(json.dumps(learned.to_dict()))  # the simulation terms only: the rest keep defaults
    assert racecast.read_priors(to_dict) == (PRIORS, 0.45)


def test_the_shipped_record_of_the_fit_is_read_as_it_is():
    priors, sd = racecast.read_priors(REPO / "docs" / "priors-learned.json")
    record = json.loads((REPO / "docs" / "priors-learned.json").read_text())["learned"]
    assert sd == record["outstanding_sd"]
    assert priors.unseen_type_floor == record["unseen_type_floor"]
    assert priors.wander_sd is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"remainder_sd": 0.1, "wandr_sd": 0.3}', "wandr_sd is not a field of racecast.Priors"),
        ('{"type_sd": null}', "type_sd must be a non-negative number, got None"),
        ('{"remainder_sd": "0.1"}', "remainder_sd must be a non-negative number or null, got '0.1'"),
        ('{"remainder_sd": true}', "remainder_sd must be a non-negative number or null"),
        ('{"batch_sd": -0.2}', "batch_sd must be a non-negative number, got -0.2"),
        ('{"outstanding_sd": -1}', "outstanding_sd must be a non-negative number, got -1"),
        ('{"unseen_type_df": 1}', "unseen_type_df must be None (normal) or more than 2"),
        ("[0.1, 0.2]", "a JSON object of Priors fields"),
        ('{"remainder_sd": 0.1,}', "not JSON (line 1, column"),
    ],
)
def test_a_bad_priors_file_is_an_error_naming_the_file_and_the_key(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(racecast.ForecastInputError) as info:
        racecast.read_priors(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_a_missing_priors_file_says_so(tmp_path):
    with pytest.raises(racecast.ForecastInputError, match="priors file not found"):
        racecast.read_priors(tmp_path / "none.json")


def _cli(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_forecast_with_priors_is_the_library_forecast_with_those_priors(tmp_path):
    path = racecast.write_priors(tmp_path / "p.json", PRIORS, outstanding_sd=0.3)
    args = ("--as-of", "4", "--format", "json")
    with_file = fast(LA, *args, "--priors", path)
    assert with_file.exit_code == 0, with_file.output
    plain = fast(LA, *args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        lib = racecast.forecast(
            racecast.read_count(LA)[:4], seed=7, engine="fast", draws=400, priors=PRIORS, outstanding_sd=0.3
        )
    got = json.loads(with_file.stdout)["candidates"][0]["win_probability"]
    assert got == pytest.approx(float(lib.win_probability["Karen Bass"]))
    assert json.loads(plain.stdout)["candidates"][0]["win_probability"] != got


def test_replay_and_ballot_take_priors_and_refuse_a_bad_file(tmp_path):
    path = racecast.write_priors(tmp_path / "p.json", PRIORS)
    ok = _cli(
        "replay",
        LA,
        "--engine",
        "fast",
        "--draws",
        "300",
        "--seed",
        "1",
        "--priors",
        path,
        "--format",
        "json",
    )
    assert ok.exit_code == 0, ok.output
    baseline = _cli("replay", LA, "--forecaster", "leader_wins", "--priors", path)
    assert baseline.exit_code == EXIT_BAD_INPUT
    assert "--forecaster leader_wins does not use them" in baseline.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"wandr_sd": 0.3}')
    ballot = _cli("ballot", "--example", "la_county_2022", "--engine", "fast", "--priors", bad)
    assert ballot.exit_code == EXIT_BAD_INPUT
    assert "wandr_sd is not a field" in ballot.stderr


def test_the_ballot_plan_carries_the_priors_to_every_contest(tmp_path):
    from racecast.cli.ballot import make_plan

    path = racecast.write_priors(tmp_path / "p.json", PRIORS, outstanding_sd=0.25)
    plan = make_plan("fast", 1, 300, 0.9, 1, False, priors=path)
    assert plan.priors == {"priors": PRIORS, "outstanding_sd": 0.25}
    ballot = racecast.read_ballot(racecast.example_path("la_county_2022"))
    fc, _ = plan.run(ballot, 2)
    assert fc.settings["outstanding_sd"] == 0.25
    assert fc.settings["priors"]["wander_sd"] == 0.3
