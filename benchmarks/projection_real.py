"""A projected final total in place of published estimates, on the real LA County 2022 ballot.

Many feeds (Clarity's among them) publish nothing of what is outstanding; a newsroom then
has only a projection of the final total (registration times expected turnout, a past
election's total).  This replays the whole LA County 2022 ballot (430 contests, 14 releases,
``../shared/data/la_county_2022``, read in place) with every published estimate removed
(``outstanding_<type>`` and ``outstanding_total``) and, instead, a projection of the
county's final ballots given before the first release: the certified number of ballots
times 0.85, 1.0 or 1.15 (a projection 15% low, exact, 15% high).  Each is scored like
``benchmarks/calibration_real.py`` scores the published estimates (fast engine, 2,000 draws,
seed 2020), once with racecast's rule (the projection's error is a *total's*: carried over
to what is left in absolute terms) and once as if the projection's remainder had been
published (its error relative to what is left, as for a registrar's estimate), which is
the choice the rule has to beat.

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
from typing import Any

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


def projected_ballot(ballot: racecast.Ballot, factor: float) -> racecast.Ballot:
    """The ballot with nothing published of what is outstanding and a projection at release 1."""
    n = len(ballot.release_ids)
    expected = np.full(n, np.nan)
    expected[0] = factor * float(np.nanmax(ballot.ballots_counted))
    return dataclasses.replace(
        ballot,
        outstanding=ballot.outstanding.iloc[:, :0],
        outstanding_total=np.full(n, np.nan),
        expected_total=expected,
    )


def _as_if_published(count: racecast.Count) -> Any:
    """The projection's remainder taken as a published estimate: no carried-over error."""
    got = _PROJECTED(count)
    if got is None:
        return None
    rows, notes = got
    return {t: (left, source, left) for t, (left, source, _) in rows.items()}, notes


_PROJECTED = outstanding_rule._projected


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


def replay(ballot: racecast.Ballot, processes: int) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return replay_ballot(ballot, seed=SEED, engine="fast", processes=processes).rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "projection_results.json")
    args = parser.parse_args(argv)
    ballot = racecast.read_ballot(SHARED / "la_county_2022")
    results: dict[str, Any] = {}
    start = time.perf_counter()
    results["published estimates"] = score(replay(ballot, args.processes))
    for factor in FACTORS:
        variant = projected_ballot(ballot, factor)
        results[f"projection x{factor:g}, racecast's rule"] = score(replay(variant, args.processes))
        outstanding_rule._projected = _as_if_published  # type: ignore[assignment]
        try:  # in this process: the replacement must be seen by every forecast
            results[f"projection x{factor:g}, as if published"] = score(replay(variant, 1))
        finally:
            outstanding_rule._projected = _PROJECTED  # type: ignore[assignment]
        print(f"x{factor:g} done after {time.perf_counter() - start:.0f} s", flush=True)
    for name, r in results.items():
        for label, s in r.items():
            stages = " ".join(f"{v:.3f}" for v in s["stages"].values())
            print(
                f"{name:38s} {label:12s} coverage {s['coverage']:.3f}  stages {stages}  "
                f"width {100 * s['width']:.2f} pts  wrong {s['wrong']:3d}  Brier {s['brier']:.4f}  "
                f"({s['forecasts']} forecasts)"
            )
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
