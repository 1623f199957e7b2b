"""Learn racecast's simulation hyper-parameters from the shared real counts, and validate them.

The library of completed counts (read in place from ``../shared/data``):

* the Los Angeles County 2022 general ballot (``la_county_2022``): its competitive
  single-winner contests (final margin between the top two under 10 points, rule
  plurality or a simple majority);
* the Los Angeles mayoral 2022 general (``la_mayor_2022_general.csv``) and primary
  (``la_mayor_2022_primary.csv``; its final is the certified release);
* the New York Times' 2020 presidential feed for six battleground states (``nyt2020``).

Elections, for leaving one out: the LA November 2022 ballot *with* the mayoral general
(the same election: the county ballot holds the mayoral contest too), the LA June 2022
primary, and NYT 2020.  For each election the hyper-parameters are learned on the
others (starting from every term off) and scored on it, next to every term off and to
the learned terms with the shipped ``outstanding_sd`` 0.15.  The fit on all of them is
written to ``docs/priors-learned.json``.

Run from the repository root: ``python benchmarks/learn_priors.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

import racecast
from racecast.learn import ReleaseFit, fit_releases, learn_priors, mean_log_score, score_releases
from racecast.settings import DEFAULT_OUTSTANDING_SD

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
STATES = ("Alaska", "Arizona", "Georgia", "Nevada", "North Carolina", "Pennsylvania")
OUT = REPO / "docs" / "priors-learned.json"
START = racecast.Priors.model_only()
"""Where every search starts, and the baseline each fold is scored against: all terms off.

Not ``Priors()``: its defaults were learned on this whole library, so starting a fold there
(or scoring it as a baseline) would carry the held-out election back in."""


def _competitive(ballot: racecast.Ballot, name: str, max_margin: float) -> bool:
    rule = ballot.rule(name)
    simple = rule.name == "plurality" or (
        rule.name.startswith("threshold") and getattr(rule, "share", None) == Fraction(1, 2)
    )
    seats = getattr(rule, "seats", 1)
    final = np.sort(ballot.contest(name).votes[-1].astype(float))[::-1]
    if final.size < 2 or final.sum() <= 0 or not simple or (seats or 1) != 1:
        return False
    return (final[0] - final[1]) / final.sum() < max_margin


def library(max_margin: float = 0.10) -> dict[str, list[racecast.Count]]:
    """The completed counts, by election."""
    ballot = racecast.read_ballot(DATA / "la_county_2022")
    county = [ballot.contest(c) for c in ballot.contests if _competitive(ballot, c, max_margin)]
    mayor = [c for c in county if "MAYOR" in c.name.upper() and "LOS ANGELES" in c.name.upper()]
    county = [c for c in county if c not in mayor]  # the bundled mayoral count replaces it (same contest)
    nyt = [
        racecast.read_nyt2020(DATA / "nyt2020" / "battleground-state-changes.csv", state=s) for s in STATES
    ]
    return {
        "LA November 2022": [*county, racecast.read_count(DATA / "la_mayor_2022_general.csv")],
        "LA June 2022 primary": [racecast.read_count(DATA / "la_mayor_2022_primary.csv")],
        "NYT 2020": nyt,
    }


def _summary(scores: pd.DataFrame) -> dict[str, float]:
    """Coverage (overall and by share still outstanding), confident wrong calls, Brier, log score."""
    stages = pd.cut(
        scores["outstanding_share"], [-1, 0.01, 0.05, 0.20, 1.0], labels=["<1%", "1-5%", "5-20%", ">20%"]
    )
    out: dict[str, float] = {
        "releases": len(scores),
        "coverage": float(scores["covered"].mean()),
        "confident_wrong": int(scores["confident_wrong"].sum()),
        "brier": float(scores["brier"].mean()),
        "log_score": mean_log_score(scores),
    }
    for stage, part in scores.groupby(stages, observed=True):
        out[f"coverage {stage}"] = float(part["covered"].mean())
    return out


def _folds(fits: dict[str, list[ReleaseFit]]) -> dict[str, tuple[list[ReleaseFit], list[ReleaseFit]]]:
    """Held-out label -> (training fits, scored fits).

    Each election held out in turn (trained on the others), and each NYT state held out
    in turn (trained on every other count, the other five states included): NYT 2020 is
    the library's only election with lumped (``mixed``) releases, so leaving the whole
    feed out leaves nothing to learn ``untyped_remainder_sd`` from.  A state held out
    next to the others of the same election shares that election's national swing; the
    election-level folds are the stricter test.
    """
    folds = {}
    for held in fits:
        folds[held] = ([f for name, v in fits.items() if name != held for f in v], fits[held])
    for state in STATES:
        label = f"NYT 2020: {state}"
        folds[label] = (
            [f for v in fits.values() for f in v if state not in f.count_name],
            [f for f in fits["NYT 2020"] if state in f.count_name],
        )
    return folds


_FITS: dict[str, list[ReleaseFit]] = {}
_GROUPS: dict[str, str] = {}


def _run_fold(args: tuple[str, int]) -> tuple[str, dict[str, object], list[dict[str, object]]]:
    held, passes = args
    train, scored = _folds(_FITS)[held]
    learned = learn_priors(train, priors=START, passes=passes, groups=_GROUPS)
    rows = [
        {"held out": held, "priors": label, **_summary(score_releases(scored, pr, sd))}
        for label, pr, sd in (
            ("terms off", START, DEFAULT_OUTSTANDING_SD),
            ("learned", learned.priors, learned.outstanding_sd),
            ("learned, outstanding_sd 0.15", learned.priors, DEFAULT_OUTSTANDING_SD),
        )
    ]
    print(f"{held}: learned on the others {learned.to_dict()}", flush=True)
    return held, learned.to_dict(), rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer draws and one pass (a smoke run)")
    ap.add_argument("--processes", type=int, default=2, help="folds fitted in parallel (fork)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore", racecast.RacecastWarning)
    draws, passes = (200, 1) if args.quick else (400, 2)
    t0 = time.time()
    _FITS.update({name: fit_releases(counts, draws=draws, seed=2022) for name, counts in library().items()})
    _GROUPS.update({f.count_name: name for name, v in _FITS.items() for f in v})
    print({k: len(v) for k, v in _FITS.items()}, f"releases fitted in {time.time() - t0:.0f}s", flush=True)
    jobs = [(held, passes) for held in _folds(_FITS)]
    if args.processes > 1:
        with multiprocessing.get_context("fork").Pool(args.processes) as pool:
            results = pool.map(_run_fold, jobs, chunksize=1)
    else:
        results = [_run_fold(j) for j in jobs]
    folds = {held: learned for held, learned, _ in results}
    table = pd.DataFrame([r for _, _, rows in results for r in rows])
    everything = [f for v in _FITS.values() for f in v]
    full = learn_priors(everything, priors=START, passes=passes, groups=_GROUPS)
    pd.set_option("display.width", 200)
    print(table.round(3).to_string(index=False))
    print("learned on every election:", full.to_dict())
    record = {
        "learned": full.to_dict(),
        "weighting": "each election weighs the same, and each count within its election",
        "leave_one_out": {"folds": folds, "scores": table.round(4).to_dict(orient="records")},
        "library": {k: len(v) for k, v in _FITS.items()},
        "draws": draws,
        "passes": passes,
        "racecast_version": racecast.__version__,
    }
    args.out.write_text(json.dumps(record, indent=2, default=float) + "\n", encoding="utf-8")
    print(f"written {args.out} ({time.time() - t0:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
