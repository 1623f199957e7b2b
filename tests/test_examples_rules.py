"""The contest-rule examples run as scripts and say what they should."""

from __future__ import annotations

import runpy
import warnings
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str, capsys: pytest.CaptureFixture[str]) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    return capsys.readouterr().out


def test_la_primary_example_reports_the_runoff_and_who_reaches_it(capsys):
    out = run_example("la_mayor_primary_2022.py", capsys)
    assert "P(runoff)" in out
    assert "P(Karen Bass reaches the runoff)" in out
    assert "P(Rick Caruso reaches the runoff)" in out
    assert "Other (10 candidates)" in out  # the derived column is shown, not hidden
    assert "runoff: Karen Bass vs Rick Caruso" in out  # the certified outcome, from the data file


def test_ballot_measure_example_says_it_is_synthetic(capsys):
    out = run_example("ballot_measure.py", capsys)
    assert out.startswith("SYNTHETIC DATA")
    assert "P(pass) = " in out
    assert "66.67%" in out
