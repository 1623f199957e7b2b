"""Learn racecast's simulation hyper-parameters from the shared real counts, and validate them.

The library of completed counts (read in place from ``../shared/data``):

* the Los Angeles County 2022 general ballot (``la_county_2022``): one in four of its
  single-winner contests (rule plurality or a simple majority), taken in the ballot's
  own order (every fourth), whatever their outcome.  A library chosen by its final
  margin would teach the scales of contests that *ended* close: those that moved into
  the band from outside are kept and those that moved out are dropped, so the shifts
  it shows are not those of a count whose end is unknown.  One in four keeps the
  ballot's share of the library about the ~1,000 releases it had;
* the Los Angeles mayoral 2022 general (``la_mayor_2022_general.csv``) and primary
  (``la_mayor_2022_primary.csv``; its final is the certified release);
* the New York Times' 2020 presidential feed for six battleground states (``nyt2020``).

Elections, for leaving one out: the LA November 2022 ballot *with* the mayoral general
(the same election: the county ballot holds the mayoral contest too), the LA June 2022
primary, and NYT 2020.  For each election the hyper-parameters are learned on the
others and scored on it, next to every term off and to the learned terms with the
shipped ``outstanding_sd`` 0.15.  Learning goes in three steps: the simulation terms at
the hand-set model scales (one pass, from every term off); the model's own scales
(``type_sd``, ``batch_sd``: every release refitted at each combination of
``racecast.learned_scales.SCALES_GRID``) with those terms; the simulation terms again at the
chosen scales (from every term off).  The fit on all of them is written to
``docs/priors-learned.json``.

Run from the repository root: ``python benchmarks/learn_priors.py [--quick]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import sys
import time
import warnings
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import pandas as pd

import racecast
from racecast.learn import LearnedPriors, learn_priors, mean_log_score, score_releases
from racecast.learned_scales import SCALES_GRID, LearnedScales, learn_scales
from racecast.model.data import HAND_SET_SCALES
from racecast.release_fits import ReleaseFit, fit_releases
from racecast.settings import DEFAULT_OUTSTANDING_SD

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
STATES = ("Alaska", "Arizona", "Georgia", "Nevada", "North Carolina", "Pennsylvania")
OUT = REPO / "docs" / "priors-learned.json"
HELDOUT = REPO / "benchmarks" / "heldout"
SAMPLE_EVERY = 4
"""One LA single-winner contest in this many, in ballot order (see the module docstring)."""
START = racecast.Priors.model_only()
"""Where every search starts, and the baseline each fold is scored against: racecast 0.1
(all terms off, the hand-set scales).

Not ``Priors()``: its defaults were learned on this whole library, so starting a fold there
(or scoring it as a baseline) would carry the held-out election back in."""


def _single_winner(ballot: racecast.Ballot, name: str) -> bool:
    rule = ballot.rule(name)
    simple = rule.name == "plurality" or (
        rule.name.startswith("threshold") and getattr(rule, "share", None) == Fraction(1, 2)
    )
    return simple and (getattr(rule, "seats", 1) or 1) == 1 and ballot.contest(name).n_candidates >= 2


def library(heldout: bool = False) -> dict[str, list[racecast.Count]]:
    """The completed counts, by election.

    With ``heldout`` the counts compiled from the press (``benchmarks/heldout/``, each from
    another election and place: its own group) are added: a relearning experiment, not the
    shipped library (they are what the shipped defaults are checked on out of sample).
    """
    ballot = racecast.read_ballot(DATA / "la_county_2022")
    single = [c for c in ballot.contests if _single_winner(ballot, c)]
    # the bundled mayoral count stands for its contest (it runs to the certified result)
    single = [c for c in single if not ("MAYOR" in c.upper() and "LOS ANGELES" in c.upper())]
    county = [ballot.contest(c) for c in single[::SAMPLE_EVERY]]
    nyt = [
        racecast.read_nyt2020(DATA / "nyt2020" / "battleground-state-changes.csv", state=s) for s in STATES
    ]
    return {
        "LA November 2022": [*county, racecast.read_count(DATA / "la_mayor_2022_general.csv")],
        "LA June 2022 primary": [racecast.read_count(DATA / "la_mayor_2022_primary.csv")],
        "NYT 2020": nyt,
        **({p.stem: [racecast.read_count(p)] for p in sorted(HELDOUT.glob("*.csv"))} if heldout else {}),
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


def _folds(
    fits: dict[str, list[ReleaseFit]], states: bool = True
) -> dict[str, tuple[list[ReleaseFit], list[ReleaseFit]]]:
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
    for state in STATES if states else ():
        label = f"NYT 2020: {state}"
        folds[label] = (
            [f for v in fits.values() for f in v if state not in f.count_name],
            [f for f in fits["NYT 2020"] if state in f.count_name],
        )
    return folds


_FITS: dict[tuple[float, ...], dict[str, list[ReleaseFit]]] = {}
"""Scale values (``SCALES_GRID`` order) -> election -> fitted releases."""
_GROUPS: dict[str, str] = {}
HAND_SET = tuple(HAND_SET_SCALES[k] for k in SCALES_GRID)
"""racecast 0.1's model scales (``type_sd`` 0.5, ``batch_sd`` 0.2): where learning starts."""


def _learn(
    train_of: Callable[[tuple[float, ...]], list[ReleaseFit]], passes: int
) -> tuple[LearnedPriors, LearnedScales]:
    """Simulation terms at the hand-set scales, then the scales, then the terms again."""
    rough = learn_priors(train_of(HAND_SET), priors=START, passes=1, groups=_GROUPS)
    scales = learn_scales(
        {k: train_of(k) for k in _FITS},
        priors=rough.priors,
        outstanding_sd=rough.outstanding_sd,
        groups=_GROUPS,
    )
    chosen = tuple(scales.scales()[k] for k in SCALES_GRID)
    return learn_priors(train_of(chosen), priors=START, passes=passes, groups=_GROUPS), scales


def _run_fold(args: tuple[str, int, bool]) -> tuple[str, dict[str, object], list[dict[str, object]]]:
    """One fold: ``(held-out label, passes, whether the NYT states are folds of their own)``."""
    held, passes, states = args

    def part(scales: tuple[float, ...], which: int) -> list[ReleaseFit]:
        return _folds(_FITS[scales], states=states)[held][which]

    learned, scales = _learn(lambda k: part(k, 0), passes)
    chosen = tuple(float(getattr(learned.priors, k)) for k in SCALES_GRID)
    rows = [
        {"held out": held, "priors": label, **_summary(score_releases(part(at, 1), pr, sd))}
        for label, at, pr, sd in (
            ("terms off", HAND_SET, START, DEFAULT_OUTSTANDING_SD),
            ("learned", chosen, learned.priors, learned.outstanding_sd),
            ("learned, outstanding_sd 0.15", chosen, learned.priors, DEFAULT_OUTSTANDING_SD),
        )
    ]
    print(f"{held}: learned on the others {learned.to_dict()}", flush=True)
    return held, {**learned.to_dict(), "scales_table": scales.table.round(4).to_dict(orient="records")}, rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer draws and one pass (a smoke run)")
    ap.add_argument("--processes", type=int, default=2, help="folds fitted in parallel (fork)")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument(
        "--heldout",
        action="store_true",
        help="add the counts of benchmarks/heldout/ (each its own election; no per-state folds)",
    )
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore", racecast.RacecastWarning)
    draws, passes = (200, 1) if args.quick else (400, 2)
    t0 = time.time()
    counts = library(heldout=args.heldout)
    for values in itertools.product(*SCALES_GRID.values()):
        at = tuple(float(v) for v in values)
        model = racecast.Priors.model_only(**dict(zip(SCALES_GRID, at, strict=True)))
        _FITS[at] = {
            name: fit_releases(v, priors=model, draws=draws, seed=2022) for name, v in counts.items()
        }
    _GROUPS.update({f.count_name: name for name, v in _FITS[HAND_SET].items() for f in v})
    sizes = {k: len(v) for k, v in _FITS[HAND_SET].items()}
    print(sizes, f"releases fitted at {len(_FITS)} scale combinations in {time.time() - t0:.0f}s", flush=True)
    states = not args.heldout  # per-state folds cost time; the held-out counts add folds of their own
    jobs = [(held, passes, states) for held in _folds(_FITS[HAND_SET], states=states)]
    if args.processes > 1:
        with multiprocessing.get_context("fork").Pool(args.processes) as pool:
            results = pool.map(_run_fold, jobs, chunksize=1)
    else:
        results = [_run_fold(j) for j in jobs]
    folds = {held: learned for held, learned, _ in results}
    table = pd.DataFrame([r for _, _, rows in results for r in rows])
    full, scales = _learn(lambda k: [f for v in _FITS[k].values() for f in v], passes)
    pd.set_option("display.width", 200)
    print(table.round(3).to_string(index=False))
    print("learned on every election:", full.to_dict())
    record = {
        "learned": full.to_dict(),
        "scales_table": scales.table.round(4).to_dict(orient="records"),
        "weighting": "each election weighs the same, and each count within its election",
        "leave_one_out": {"folds": folds, "scores": table.round(4).to_dict(orient="records")},
        "library": sizes,
        "la_sample": f"one in {SAMPLE_EVERY} single-winner contests, in ballot order",
        "draws": draws,
        "passes": passes,
        "racecast_version": racecast.__version__,
    }
    args.out.write_text(json.dumps(record, indent=2, default=float) + "\n", encoding="utf-8")
    print(f"written {args.out} ({time.time() - t0:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
