"""The example scripts run as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_la_example_runs_and_shows_bass_favoured_after_nov_10(tmp_path):
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "la_mayor_2022.py"), "--engine", "fast", "--plots", str(tmp_path)],
        capture_output=True, text=True, check=True, timeout=300,
    ).stdout
    rows = {int(line.split()[0]): line for line in out.splitlines() if line[:3].strip().isdigit()}
    nov10 = rows[4].split()
    assert "-2,695" in nov10
    assert float(nov10[nov10.index("-2,695") + 1]) > 0.75
    assert float(rows[7].split()[rows[7].split().index("+29,271") + 1]) >= 0.99
    assert (tmp_path / "la_2022_replay.png").stat().st_size > 10_000
    assert (tmp_path / "la_2022_forecast.png").stat().st_size > 10_000


@pytest.mark.slow
def test_la_example_runs_with_nuts():
    subprocess.run([sys.executable, str(EXAMPLES / "la_mayor_2022.py")], check=True, timeout=900,
                   capture_output=True)


def test_la_prior_example_runs_and_the_primary_prior_points_late_mail_to_bass():
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "la_prior_from_primary.py"), "--engine", "fast", "--draws", "500"],
        capture_output=True, text=True, check=True, timeout=600,
    ).stdout
    night = {line[:22].strip(): line.split() for line in out.splitlines()
             if line.startswith(("no prior  ", "prior from primary"))}
    assert set(night) == {"no prior", "prior from primary"}
    # the primary's late ballots leaned to Bass, so learning from it raises P(Bass) on election night
    assert float(night["prior from primary"][3]) > float(night["no prior"][2])
    replay_rows = [line for line in out.splitlines() if line.startswith(("no prior  ", "prior, "))
                   and "[" not in line]
    assert len(replay_rows) == 5
    for line in replay_rows:
        brier, log_loss = (float(v) for v in line.split()[-2:])
        assert 0.0 <= brier <= 2.0 and log_loss >= 0.0
