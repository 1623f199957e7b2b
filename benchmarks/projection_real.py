"""A projected final total in place of published estimates, on real counts.

Many feeds (Clarity's among them) publish nothing of what is outstanding; a newsroom then
has only a projection of the final total (registration times expected turnout, a past
election's total).  This replays the whole LA County 2022 ballot (430 contests, 14 releases,
``../shared/data/la_county_2022``, read in place) with every published estimate removed
(``outstanding_<type>`` and ``outstanding_total``) and, instead, a projection of the
county's final ballots given before the first release: the certified number of ballots
times 0.85, 1.0 or 1.15 (a projection 15% low, exact, 15% high); and the same for the NYT
2020 feed's six states (``../shared/data/nyt2020``, third-party, read in place), its
``votes_remaining`` removed and each state's final votes projected.  Each is scored like
``benchmarks/calibration_real.py`` scores the published estimates (fast engine, 2,000 draws,
seed 2020), with racecast's rule (what is left is the projected total less what was
counted, given that the total is at least what was counted: ``racecast._projection``) and
with the two simpler rules it has to beat, which take ``max(E - C, 0)`` as what is left,
its error either carried over from the total or as if it had been published.

Run from the repository root (racecast importable, e.g. with ``PYTHONPATH=src``)::

    python benchmarks/projection_real.py [--processes 2] [--out docs/projection_results.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
import warnings
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

import racecast
import racecast.outstanding as outstanding_rule
from racecast.evaluation import calibration as cal
from racecast.evaluation.ballot_replay import replay_ballot

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
SEED = 2020
FACTORS = (0.85, 1.0, 1.15)
STATES = ("Alaska", "Arizona", "Georgia", "Nevada", "North Carolina", "Pennsylvania")


def _clipped(carry_error: bool) -> Any:
    """The simpler rules the shipped one has to beat: what is left is ``max(E - C, 0)``.

    With ``carry_error`` the projection's error is a total's, carried over to what is
    left in absolute terms (as for a stale estimate); without it, the remainder is taken
    as if it had been published (its error relative to what is left).  Either calls the
    count complete once it reaches the projection.
    """

    def rule(count: racecast.Count, sd: float) -> Any:
        got = _PROJECTED(count, sd)
        if got is None:
            return None
        rows, notes, exact = got
        out = {}
        for t, (_, source, _) in rows.items():
            expected, counted = exact[t]
            left = max(expected - counted, 0.0)
            out[t] = (left, source, expected if carry_error else left)
        return out, notes, {}

    return rule


_PROJECTED = outstanding_rule._projected
VARIANTS = {
    "racecast's rule (the total given the count)": None,
    "max(E - C, 0), the total's error carried over": _clipped(True),
    "max(E - C, 0), as if published": _clipped(False),
}


def score(rows: pd.DataFrame) -> dict[str, Any]:
    """Coverage overall and by stage, confident wrong calls and Brier, for all and competitive contests."""
    out: dict[str, Any] = {}
    for label, part in (("all", rows), ("competitive", cal.competitive(rows))):
        s = cal.summary(part).iloc[0]
        stages = cal.coverage_by_stage(part).set_index("stage")["coverage"]
        out[label] = {
            "coverage": float(s["coverage"]),
            "stages": {str(k): float(v) for k, v in stages.items()},
            "width": float(s["width"]),
            "wrong": int(s["wrong_calls"]),
            "brier": float(s["brier"]),
            "forecasts": int(s["forecasts"]),
        }
    return out


_Counted = TypeVar("_Counted", racecast.Count, racecast.Ballot)


def projected(counted: _Counted, total: float) -> _Counted:
    """A count or ballot with nothing published of what is left, and a projection ``total`` at release 1."""
    n = len(counted.release_ids)
    expected = np.full(n, np.nan)
    expected[0] = total
    return dataclasses.replace(
        counted,
        outstanding=counted.outstanding.iloc[:, :0],
        outstanding_total=np.full(n, np.nan),
        expected_total=expected,
    )


def replay_la(factor: float | None, processes: int) -> pd.DataFrame:
    """Every contest of the LA County 2022 ballot, with its estimates or a projection ``factor`` x final."""
    ballot = racecast.read_ballot(SHARED / "la_county_2022")
    if factor is not None:
        ballot = projected(ballot, factor * float(np.nanmax(ballot.ballots_counted)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return replay_ballot(ballot, seed=SEED, engine="fast", processes=processes).rows


def replay_nyt(factor: float | None, processes: int) -> pd.DataFrame:
    """The NYT 2020 feed's six states, with its ``votes_remaining`` or a projection ``factor`` x final."""
    frames = []
    for state in STATES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            count = racecast.read_nyt2020(SHARED / "nyt2020" / "battleground-state-changes.csv", state=state)
            if factor is not None:
                count = projected(count, factor * float(count.votes[-1].sum()))
            rp = racecast.replay(count, seed=SEED, progress=False, engine="fast")
        frames.append(cal.calibration_rows(rp, contest=state))
    return pd.concat(frames, ignore_index=True)


DATASETS = {"LA County 2022 ballot": replay_la, "NYT 2020, six states": replay_nyt}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "projection_results.json")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, Any]] = {}
    start = time.perf_counter()
    for dataset, run in DATASETS.items():
        results[dataset] = {"published estimates": score(run(None, args.processes))}
        for factor in FACTORS:
            for label, rule in VARIANTS.items():
                # forked workers inherit the replaced rule: it is set before the pool starts
                outstanding_rule._projected = rule or _PROJECTED  # type: ignore[assignment]
                try:
                    results[dataset][f"projection x{factor:g}, {label}"] = score(run(factor, args.processes))
                finally:
                    outstanding_rule._projected = _PROJECTED  # type: ignore[assignment]
            print(f"{dataset} x{factor:g} done after {time.perf_counter() - start:.0f} s", flush=True)
    for dataset, by_variant in results.items():
        print(f"\n{dataset}")
        for name, r in by_variant.items():
            for label, s in r.items():
                stages = " ".join(f"{v:.3f}" for v in s["stages"].values())
                print(
                    f"{name:62s} {label:12s} coverage {s['coverage']:.3f}  stages {stages}  "
                    f"width {100 * s['width']:.2f} pts  wrong {s['wrong']:3d}  Brier {s['brier']:.4f}  "
                    f"({s['forecasts']} forecasts)"
                )
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
