"""The example scripts run as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_la_example_runs_and_shows_bass_favoured_after_nov_10():
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "la_mayor_2022.py"), "--engine", "fast"],
        capture_output=True, text=True, check=True, timeout=300,
    ).stdout
    rows = {int(line.split()[0]): line for line in out.splitlines() if line[:3].strip().isdigit()}
    nov10 = rows[4].split()
    assert "-2,695" in nov10
    assert float(nov10[nov10.index("-2,695") + 1]) > 0.75
    assert float(rows[7].split()[rows[7].split().index("+29,271") + 1]) >= 0.99


@pytest.mark.slow
def test_la_example_runs_with_nuts():
    subprocess.run([sys.executable, str(EXAMPLES / "la_mayor_2022.py")], check=True, timeout=900,
                   capture_output=True)
