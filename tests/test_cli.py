"""The ``racecast`` command line, driven through typer's test runner."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import racecast
from racecast import cli
from racecast.cli import CSV_COLUMNS, EXIT_BAD_INPUT, EXIT_FAILURE, app
from racecast.errors import CountFormatError

REPO = Path(__file__).resolve().parents[1]
LA = racecast.example_path("la_mayor_2022_general")


def documented_json_keys() -> dict[str, set[str]]:
    """Keys of the JSON outputs as documented in docs/cli.md.

    ``""``: top level of ``forecast``; ``"candidates"`` etc.: its arrays' items;
    ``"replay"``: top level of ``replay``; ``"releases"``: its array's items.
    """
    keys: dict[str, set[str]] = {}
    pattern = r"^\| `([a-z_]+)(?:(\[\]\.|\.)([a-z_]+))?` \|"
    for m in re.finditer(pattern, (REPO / "docs" / "cli.md").read_text(), re.MULTILINE):
        parent, child = (m.group(1), m.group(3)) if m.group(3) else ("", m.group(1))
        keys.setdefault(parent, set()).add(child)
    return keys


def run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def fast(file, *args: str):
    """``racecast forecast FILE``, fast engine, few draws (for speed) unless ``args`` say otherwise."""
    return run("forecast", file, "--engine", "fast", "--draws", "400", "--seed", "7", *args)


def write(tmp_path: Path, text: str, name: str = "count.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


SMALL = """release,batch_type,A,B,outstanding_late_mail
1,early_mail,600,400,
2,vote_center,900,800,
3,late_mail,1000,950,500
"""


# ---------------------------------------------------------------------------
# version, help, entry point
# ---------------------------------------------------------------------------
def test_version_prints_the_package_version():
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"racecast {racecast.__version__}"


def test_no_arguments_shows_the_commands():
    result = run()
    assert "forecast" in result.output
    assert "validate" in result.output


def test_console_script_entry_point_is_declared():
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert meta["project"]["scripts"]["racecast"] == "racecast.cli:main"
    assert callable(cli.main)


def test_python_dash_m_racecast_runs_the_cli():
    env_path = str(REPO / "src")
    out = subprocess.run(
        [sys.executable, "-m", "racecast", "--version"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_path, "PATH": ""},
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"racecast {racecast.__version__}"


# ---------------------------------------------------------------------------
# validate
# ---------------------------------------------------------------------------
def test_validate_a_good_file_exits_0_and_describes_it():
    result = run("validate", LA)
    assert result.exit_code == 0, result.output
    assert "ok, 16 releases, 2 candidates (Karen Bass, Rick Caruso)" in result.stdout
    assert result.stderr == ""


def test_validate_reports_every_problem_with_row_and_column_and_exits_2(tmp_path):
    bad = write(
        tmp_path,
        "release,released_at,batch_type,A,B,outstanding_late_mail\n"
        "1,2022-11-08T20:55-08:00,early_mail,100,90,\n"  # line 2: fine
        "2,2022-11-09T20:55-08:00,Late Mail,120,-5,50\n"  # line 3: two problems
        "2,2022-11-10T20:55-08:00,late_mail,130,95,abc\n"  # line 4: release not increasing, bad outstanding
        "4,2022-11-11T20:55-08:00,late_mail,1,000,95,5\n"  # line 5: a thousands separator: one field too many
        "5,2022-11-12T20:55-08:00,late_mail,150,x,\n",  # line 6: bad votes
    )
    result = run("validate", bad)
    assert result.exit_code == EXIT_BAD_INPUT
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith("racecast: error: ") for line in lines)
    expected = [
        (3, "column 'batch_type'"),
        (3, "column 'B'"),
        (4, "column 'release'"),
        (4, "column 'outstanding_late_mail'"),
        (5, "fields but the header has"),
        (6, "column 'B'"),
    ]
    assert len(lines) == len(expected) + 1
    for line, (row, what) in zip(lines, expected, strict=False):
        assert f"{bad.name}, row {row}" in line, line  # named by its file name, not its path
        assert what in line, line
    assert lines[-1].endswith("6 problem(s) found")
    assert result.stdout == ""


def test_validate_a_header_problem_is_reported_once(tmp_path):
    bad = write(tmp_path, "release,A,B\n1,1,2\n2,3,4\n")
    result = run("validate", bad)
    assert result.exit_code == EXIT_BAD_INPUT
    assert "column 'batch_type'" in result.stderr
    assert result.stderr.count("racecast: error:") == 2  # the problem and the tally


def test_validate_a_missing_file_is_bad_input(tmp_path):
    result = run("validate", tmp_path / "nope.csv")
    assert result.exit_code == EXIT_BAD_INPUT
    assert "file not found" in result.stderr
    assert "Traceback" not in result.output


def test_validate_prints_warnings_but_passes_a_count_with_a_correction(tmp_path):
    p = write(tmp_path, "batch_type,A,B\nearly_mail,100,90\nlate_mail,99,120\n")
    result = run("validate", p)
    assert result.exit_code == 0
    assert "racecast: warning:" in result.stderr
    assert "cumulative votes went down" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_validate_stops_at_the_limit(tmp_path):
    rows = "".join(f"{i},early_mail,x,1\n" for i in range(1, 30))
    p = write(tmp_path, "release,batch_type,A,B\n" + rows)
    result = run("validate", p, "--limit", "5")
    assert result.exit_code == EXIT_BAD_INPUT
    assert result.stderr.count("votes must be a whole number") == 5
    assert "stopped at --limit" in result.stderr


# ---------------------------------------------------------------------------
# forecast
# ---------------------------------------------------------------------------
def test_forecast_table_shows_candidates_probabilities_and_lead_change():
    result = fast(LA, "--as-of", "4")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "forecast after release 4 (4 of 16 releases" in out
    for word in ("Karen Bass", "Rick Caruso", "P(win)", "90% interval", "does not win", "outstanding:"):
        assert word in out


def test_forecast_json_has_the_documented_keys_and_matches_the_library(tmp_path):
    result = fast(LA, "--as-of", "4", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    documented = documented_json_keys()
    assert set(doc) == documented[""]
    for part in ("candidates", "outcomes", "remaining"):
        for item in doc[part]:
            assert set(item) == documented[part], part
    assert doc["as_of_release"] == 4
    assert doc["releases"] == 4
    assert [c["name"] for c in doc["candidates"]] == ["Karen Bass", "Rick Caruso"]
    for c in doc["candidates"]:
        assert set(c["final_share"]) == set(c["final_votes"]) == {"median", "lower", "upper"}
        assert c["final_share"]["lower"] <= c["final_share"]["median"] <= c["final_share"]["upper"]
    count = racecast.read_count(LA)[:4]
    with pytest.warns(racecast.UnseenBatchTypeWarning):
        lib = racecast.forecast(count, seed=7, engine="fast", draws=400)
    assert doc["candidates"][0]["win_probability"] == pytest.approx(float(lib.win_probability["Karen Bass"]))
    assert doc["candidates"][1]["votes"] == int(count.totals["Rick Caruso"])


def test_forecast_same_seed_same_json():
    a = fast(LA, "--format", "json")
    b = fast(LA, "--format", "json")
    assert a.exit_code == b.exit_code == 0
    assert a.stdout == b.stdout


def test_csv_columns_are_the_documented_ones():
    text = (REPO / "docs" / "cli.md").read_text()
    block = text[text.index("### CSV output") : text.index("## `racecast validate`")]
    listed = re.search(r"`(candidate,[^`]+)`", block, re.DOTALL).group(1)
    assert tuple(c.strip() for c in listed.split(",")) == CSV_COLUMNS


def test_forecast_csv_has_one_row_per_candidate_with_the_documented_columns():
    result = fast(LA, "--as-of", "4", "--format", "csv")
    assert result.exit_code == 0, result.output
    df = pd.read_csv(io.StringIO(result.stdout))
    assert tuple(df.columns) == CSV_COLUMNS
    assert df["candidate"].tolist() == ["Karen Bass", "Rick Caruso"]
    assert df["win_probability"].sum() == pytest.approx(1.0)
    assert (df["as_of_release"] == 4).all()
    assert (df["final_share_lower"] <= df["final_share_upper"]).all()


THREE = """release,batch_type,Ada,Ben,Cy,outstanding_late_mail
1,early_mail,5200,3900,900,
2,late_mail,9800,8300,1900,6000
"""


@pytest.mark.parametrize(
    ("args", "label", "rule"),
    [
        (["--rule", "top_two"], "P(advance)", "top_two"),
        (["--seats", "2"], "P(seat)", "seats"),
        (["--rule", "majority"], "P(outright)", "majority"),
    ],
)
def test_forecast_rule_options_reach_the_forecast(tmp_path, args, label, rule):
    p = write(tmp_path, THREE)
    table = fast(p, *args)
    assert table.exit_code == 0, table.output
    assert label in table.stdout
    doc = json.loads(fast(p, *args, "--format", "json").stdout)
    assert doc["rule"].startswith(rule)


def test_forecast_called_race_conditions_the_output():
    result = fast(LA, "--as-of", "4", "--called", "Karen Bass", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["called"] == ["Karen Bass"]
    assert 0 < doc["called_probability"] < 1
    assert {c["name"]: c["win_probability"] for c in doc["candidates"]} == {
        "Karen Bass": 1.0,
        "Rick Caruso": 0.0,
    }
    table = fast(LA, "--as-of", "4", "--called", "Karen Bass")
    assert "called: Karen Bass" in table.stdout


def test_forecast_calling_an_unknown_candidate_is_bad_input():
    result = fast(LA, "--called", "Nobody")
    assert result.exit_code == EXIT_BAD_INPUT
    assert "Nobody" in result.stderr


def test_forecast_remaining_overrides_the_file(tmp_path):
    p = write(tmp_path, SMALL)
    result = fast(p, "--remaining", "late_mail=2000", "-r", "provisional=1_000", "--format", "json")
    assert result.exit_code == 0, result.output
    rem = {r["batch_type"]: r for r in json.loads(result.stdout)["remaining"]}
    assert rem["late_mail"]["amount"] == 2000
    assert rem["late_mail"]["source"] == "override"
    assert rem["provisional"]["amount"] == 1000
    assert "provisional" in result.stderr
    assert "none has been counted" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--remaining", "late_mail"], "TYPE=N"),
        (["--remaining", "late_mail=lots"], "must be a number"),
        (["--remaining", "late_mail=1", "--remaining", "late_mail=2"], "twice"),
        (["--remaining", "late_mail=-5"], "non-negative"),
        (["--as-of", "9"], "--as-of 9"),
        (["--rule", "borda"], "unknown rule"),
        (["--draws", "10"], "draws"),
    ],
)
def test_forecast_bad_option_values_are_one_line_errors_with_exit_2(tmp_path, args, message):
    p = write(tmp_path, SMALL)
    result = fast(p, *args)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("racecast: error:")]
    assert len(errors) == 1
    assert message in errors[0]
    assert "Traceback" not in result.output


def test_forecast_of_a_bad_file_names_row_and_column(tmp_path):
    p = write(tmp_path, "batch_type,A,B\nearly_mail,10,x\n")
    result = fast(p)
    assert result.exit_code == EXIT_BAD_INPUT
    assert (
        result.stderr.strip()
        == f"racecast: error: {p.name}, row 2, column 'B': votes must be a whole number, got 'x'"
    )


def test_forecast_without_anything_outstanding_says_what_to_do(tmp_path):
    p = write(tmp_path, "batch_type,A,B\nearly_mail,10,8\n")
    result = fast(p)
    assert result.exit_code == EXIT_BAD_INPUT
    assert "remaining" in result.stderr


def test_debug_shows_the_exception_instead_of_one_line(tmp_path):
    p = write(tmp_path, "batch_type,A,B\nearly_mail,10,x\n")
    result = CliRunner().invoke(app, ["--debug", "forecast", str(p), "--engine", "fast"])
    assert result.exit_code != 0
    assert isinstance(result.exception, CountFormatError)


def test_an_unexpected_failure_is_one_line_and_exit_1(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("something broke")

    monkeypatch.setattr("racecast.cli.forecast.forecast", broken)
    result = fast(LA)
    assert result.exit_code == EXIT_FAILURE
    assert result.stderr.strip() == (
        "racecast: error: unexpected RuntimeError: something broke; this is a bug in racecast "
        f"{racecast.__version__}, please report it (run with --debug for the traceback)"
    )
    debug = CliRunner().invoke(app, ["--debug", "forecast", str(LA), "--engine", "fast"])
    assert isinstance(debug.exception, RuntimeError)


def test_an_internal_error_is_reported_as_a_bug_with_exit_1(monkeypatch):
    def broken(*args, **kwargs):
        raise racecast.InternalError("probabilities do not sum to 1")

    monkeypatch.setattr("racecast.cli.forecast.forecast", broken)
    result = fast(LA)
    assert result.exit_code == EXIT_FAILURE
    assert result.stderr.strip() == (
        "racecast: error: internal error: probabilities do not sum to 1; this is a bug in racecast "
        f"{racecast.__version__}, please report it (run with --debug for the traceback)"
    )


def test_forecast_and_replay_default_to_the_library_engine():
    for command in ("forecast", "replay"):
        help_text = " ".join(run(command, "--help").stdout.split())
        assert f"[default: {racecast.settings.DEFAULT_ENGINE}]" in help_text, command


@pytest.mark.slow
def test_forecast_with_nuts_runs_end_to_end():
    result = run("forecast", LA, "--as-of", "4", "--engine", "nuts", "--seed", "1", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    # NUTS ran; a poor fit falls back to the fast engine and says so (see racecast.forecast)
    assert doc["settings"]["requested_engine"] == "nuts"
    assert doc["diagnostics"]["nuts_attempts"]
    assert sum(c["win_probability"] for c in doc["candidates"]) == pytest.approx(1.0)


# ---------------------------------------------------------------------------
# replay
# ---------------------------------------------------------------------------
def test_replay_table_scores_the_la_count():
    result = run("replay", LA, "--seed", "1", "--draws", "400")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "replay of 16 releases by racecast" in out
    assert "final winner Karen Bass" in out
    assert "P(Karen Bass)" in out
    assert "score over 13 forecasts" in out
    assert "stayed >= 0.95 from: release" in out


def test_replay_json_matches_the_library_replay():
    result = run("replay", LA, "--seed", "1", "--draws", "400", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc) == documented_json_keys()["replay"]
    assert [r["release"] for r in doc["releases"]] == list(range(1, 16))
    assert set(doc["releases"][0]) == documented_json_keys()["releases"]
    with pytest.warns(racecast.UnseenBatchTypeWarning):
        lib = racecast.replay(racecast.read_count(LA), seed=1, draws=400, progress=False)
    assert doc["score"]["brier"] == pytest.approx(lib.score().brier)
    assert doc["releases"][3]["win_probability"]["Karen Bass"] == pytest.approx(
        float(lib.table.loc[4, ("win_probability", "Karen Bass")])
    )
    assert doc["releases"][0]["win_probability"]["Karen Bass"] is None  # no outstanding estimate yet


def test_replay_csv_is_one_row_per_release_and_candidate():
    result = run("replay", LA, "--seed", "1", "--draws", "400", "--format", "csv")
    assert result.exit_code == 0, result.output
    df = pd.read_csv(io.StringIO(result.stdout))
    assert tuple(df.columns) == cli.REPLAY_CSV_COLUMNS
    assert len(df) == 15 * 2
    forecast = df.dropna(subset=["win_probability"])
    assert sorted(set(forecast["release"])) == list(range(3, 16))  # releases 1-2 have no outstanding estimate
    assert forecast.groupby("release")["win_probability"].sum().round(6).eq(1).all()


def test_replay_final_votes_and_a_baseline(tmp_path):
    p = write(tmp_path, SMALL)
    result = run(
        "replay", p, "--forecaster", "counted_split", "--final", "A=1500", "--final", "B=1700", "-f", "json"
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["forecaster"] == "counted_split"
    assert doc["winner"] == "B"
    assert doc["final_votes"] == {"A": 1500.0, "B": 1700.0}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--final", "A"], "NAME=VOTES"),
        (["--final", "A=x"], "must be a number"),
        (["--final", "Z=5"], "final"),
    ],
)
def test_replay_bad_final_is_bad_input(tmp_path, args, message):
    p = write(tmp_path, SMALL)
    result = run("replay", p, *args)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert message in result.stderr


def test_replay_plot_is_saved(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "replay.png"
    result = run("replay", LA, "--seed", "1", "--draws", "400", "--plot", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"figure saved to {out}" in result.stderr


def test_example_names_bundled_data_instead_of_a_path():
    by_name = run(
        "forecast",
        "--example",
        "la_mayor_2022_general",
        "--engine",
        "fast",
        "--draws",
        "400",
        "--seed",
        "7",
        "--as-of",
        "4",
        "--format",
        "json",
    )
    by_path = fast(racecast.example_path("la_mayor_2022_general"), "--as-of", "4", "--format", "json")
    assert by_name.exit_code == 0, by_name.output
    assert json.loads(by_name.stdout)["candidates"] == json.loads(by_path.stdout)["candidates"]
    valid = run("validate", "--example", "la_mayor_2022_primary")
    assert valid.exit_code == 0
    assert "2 releases" in valid.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--example", "la_mayor_2099"], "no bundled count or ballot 'la_mayor_2099'"),
        ([], "give a file (or --example NAME"),
        (["x.csv", "--example", "la_mayor_2022_general"], "not both"),
    ],
)
def test_example_mistakes_are_usage_errors(args, says):
    result = run("forecast", *args)
    assert result.exit_code == 2
    assert says in " ".join(result.output.split())


def test_forecast_takes_a_projection_of_the_final_total_when_the_file_publishes_none(tmp_path):
    p = write(tmp_path, "release,batch_type,A,B\n1,early_mail,600,400\n2,vote_center,900,800\n")
    result = fast(p, "--format", "json")
    assert result.exit_code == EXIT_BAD_INPUT
    assert "expected_total" in result.stderr
    result = fast(p, "--expected-total", "3000", "--format", "json")
    assert result.exit_code == 0, result.output
    (rem,) = json.loads(result.stdout)["remaining"]
    assert rem["batch_type"] == "vote_center"
    assert rem["source"].startswith("projected: expected total 3,000")
    assert rem["amount"] == pytest.approx(1300, rel=1e-3)
    bad = fast(p, "--expected-total", "-5")
    assert bad.exit_code == EXIT_BAD_INPUT
    assert "--expected-total" in bad.stderr
