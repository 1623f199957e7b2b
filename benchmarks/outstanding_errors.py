"""How far off published outstanding estimates were, by stage of the count, on the real counts.

For each release before the last: the estimate racecast uses
(``racecast.outstanding.resolve_outstanding``, the shipped rule: latest split, a fresher total,
what was counted since subtracted) against what was really left, as ``log(actual / estimate)``,
grouped by the share of the final count still outstanding (the stages of
``docs/calibration.md``):

- the NYT 2020 feed's six states (``../shared/data/nyt2020``, third-party, read in place): the
  feed's modelled ``votes_remaining`` against the votes still to come;
- the LA County 2022 ballot (``../shared/data/la_county_2022``): the registrar's ballots
  against the ballots still to be counted (final ``ballots_counted`` less the release's), at
  the releases that report ``ballots_counted``.

Run from the repository root (racecast importable, e.g. with ``PYTHONPATH=src``)::

    python benchmarks/outstanding_errors.py
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import racecast
from racecast.evaluation.calibration import stage_of
from racecast.outstanding import resolve_outstanding

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
STATES = ("Alaska", "Arizona", "Georgia", "Nevada", "North Carolina", "Pennsylvania")


def _log_error(actual: float, estimate: float) -> float:
    """``log(actual / estimate)``; infinite when the estimate said nothing was left."""
    return float(np.log(actual / estimate)) if estimate > 0 else float("inf")


def nyt_rows() -> list[tuple[str, float, float]]:
    rows = []
    for state in STATES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            count = racecast.read_nyt2020(SHARED / "nyt2020" / "battleground-state-changes.csv", state=state)
        final = float(count.votes[-1].sum())
        for k in range(1, len(count)):
            actual = final - float(count.votes[k - 1].sum())
            try:
                estimate = resolve_outstanding(count[:k]).total_votes
            except racecast.ForecastInputError:
                continue
            if actual > 0:  # an estimate of zero with votes still to come: an infinite log error, kept
                rows.append(("NYT 2020, six states", actual / final, _log_error(actual, estimate)))
    return rows


def la_rows() -> list[tuple[str, float, float]]:
    ballot = racecast.read_ballot(SHARED / "la_county_2022")
    count = ballot.contest(ballot.contests[0])
    final = float(np.nanmax(count.ballots_counted))
    rows = []
    for k in range(1, len(count)):
        counted = float(count.ballots_counted[k - 1])
        if not np.isfinite(counted):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimate = sum(resolve_outstanding(count[:k]).amounts.values())
        if final > counted:
            rows.append(
                ("LA County 2022 ballot", (final - counted) / final, np.log((final - counted) / estimate))
            )
    return rows


def main() -> int:
    df = pd.DataFrame(nyt_rows() + la_rows(), columns=["dataset", "left", "log_error"])
    df["stage"] = stage_of(df["left"])
    table = df.groupby(["dataset", "stage"], sort=False)["log_error"].agg(
        releases="count",
        said_nothing_left=lambda x: int(np.isinf(x).sum()),
        mean=lambda x: float(x[np.isfinite(x)].mean()),
        sd=lambda x: float(x[np.isfinite(x)].std()),
        off_by_30_percent=lambda x: float(np.mean(np.abs(x) > np.log(1.3))),
    )
    print(table.round(3).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
