"""How strongly the real counts decide the terms racecast ships off, and two outstanding-error models.

``benchmarks/learn_priors.py`` picks each simulation term's value by the library's mean log
score; several came out *off*.  A term chosen off by a hair would be a coin toss that a
newsroom could reasonably overrule; one chosen off by many standard errors is what the counts
say.  This script measures which, at the shipped defaults: every release of the library is
fitted once (fast engine, the shipped model scales) and simulated again with one change at a
time, with the same random numbers, and each change is scored against the shipped defaults by
the paired difference of the log score of the final margin (``racecast.learn``), averaged as
the learning averages it (each count's releases, then each election's counts, then the
elections).  Its uncertainty is a bootstrap over counts within each election (1,000
resamples): the counts are the units that vary.

The changes:

* the terms learned off, at small values: ``revision_abs`` (a Poisson-like revision of each
  total, ``sd = revision_abs * sqrt(c)``: what would keep a 12-vote race among 10,000 from
  being called), ``remainder_sd`` (typed remainder shift), ``wander_sd`` (the lean wandering
  along a type) and ``unseen_type_df`` (Student-t tails for a type not counted yet);
* two models of the outstanding estimate's error that ``benchmarks/outstanding_errors.py``
  suggested (not ``Priors`` fields: applied here to each release's outstanding amount and sd):

  - **an error that grows as the count ends**: relative sd ``sqrt(sd^2 + (a T / R)^2)`` for
    ``R`` outstanding of ``T`` counted plus outstanding, as if the estimate were a total less
    what was counted, the total off by ``a`` of itself.  Fitted to the NYT log errors by stage
    (0.14 / 0.12 / 0.16 / 0.68 from > 20% to < 1%) it wants ``a`` of about 0.001-0.003;
  - **late estimates that over-state what is left**: the amount scaled by
    ``max(1 - b T / R, 0.1)``, ballots reported outstanding that are never counted (rejected,
    duplicates, uncured) as a share ``b`` of the total.  Both real sets over-state late: the
    LA registrar's last three estimates by 1.6-6.8 times, NYT's North Carolina and Pennsylvania
    by about 2 times in their last 0.1%.

Run from the repository root (racecast importable, e.g. ``PYTHONPATH=src``); it reads the
library in place from ``../shared/data`` (as ``benchmarks/learn_priors.py`` does) and writes
``docs/term_evidence.json`` and the ``term_evidence`` table of ``docs/model.md``::

    python benchmarks/term_evidence.py
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from calibration_real import update_page
from learn_priors import library

import racecast
from racecast.learn import mean_log_score, score_releases
from racecast.release_fits import ReleaseFit, fit_releases
from racecast.settings import DEFAULT_OUTSTANDING_SD

REPO = Path(__file__).resolve().parents[1]
SEED = 2022
BOOTSTRAP = 1000
STAGES = ([-1.0, 0.01, 0.05, 0.20, 1.0], ["<1%", "1-5%", "5-20%", ">20%"])

#: One change to the shipped defaults: (label, term, how it changes a release's fit and priors).
Change = tuple[str, str, Callable[[ReleaseFit], tuple[ReleaseFit, racecast.Priors, float]]]


def _prior_change(term: str, value: float) -> Change:
    def apply(fit: ReleaseFit) -> tuple[ReleaseFit, racecast.Priors, float]:
        return fit, dataclasses.replace(racecast.Priors(), **{term: value}), DEFAULT_OUTSTANDING_SD

    return f"{term} {value:g}", term, apply


def _growing_error(a: float) -> Change:
    def apply(fit: ReleaseFit) -> tuple[ReleaseFit, racecast.Priors, float]:
        total_over_left = 1.0 / max(fit.outstanding_share, 1e-12)
        sd = min(float(np.hypot(DEFAULT_OUTSTANDING_SD, a * total_over_left)), 1.0)
        return fit, racecast.Priors(), sd

    return f"error grows as the count ends, a {a:g}", "outstanding error", apply


def _late_overstatement(b: float) -> Change:
    def apply(fit: ReleaseFit) -> tuple[ReleaseFit, racecast.Priors, float]:
        keep = max(1.0 - b / max(fit.outstanding_share, 1e-12), 0.1)
        spec = dataclasses.replace(fit.spec, amount={t: v * keep for t, v in fit.spec.amount.items()})
        return dataclasses.replace(fit, spec=spec), racecast.Priors(), DEFAULT_OUTSTANDING_SD

    return f"late estimates over-state, b {b:g}", "outstanding bias", apply


CHANGES: list[Change] = [
    _prior_change("revision_abs", 0.05),
    _prior_change("revision_abs", 0.1),
    _prior_change("remainder_sd", 0.1),
    _prior_change("wander_sd", 0.1),
    _prior_change("wander_sd", 0.3),
    _prior_change("unseen_type_df", 4.0),
    _growing_error(0.001),
    _growing_error(0.003),
    _late_overstatement(0.0005),
    _late_overstatement(0.001),
]


def scores(fits: list[ReleaseFit], change: Change | None) -> pd.DataFrame:
    """Each release's scores under the shipped defaults (``None``) or with one change."""
    if change is None:
        return score_releases(fits, racecast.Priors(), DEFAULT_OUTSTANDING_SD)
    rows = []
    for fit in fits:
        changed, priors, sd = change[2](fit)
        rows.append(score_releases([changed], priors, sd))
    return pd.concat(rows, ignore_index=True)


def paired(
    shipped: pd.DataFrame, other: pd.DataFrame, groups: dict[str, str], rng: np.random.Generator
) -> dict[str, Any]:
    """Mean paired log-score difference (as the learning averages it), by election, and its bootstrap sd."""
    diff = other.assign(log_score=other["log_score"] - shipped["log_score"])
    per_count = diff.groupby("count", sort=False)["log_score"].mean()
    election = per_count.index.map(lambda c: groups[str(c)])
    by_election = per_count.groupby(election, sort=False)
    boot = np.zeros(BOOTSTRAP)
    for _, part in by_election:
        values = part.to_numpy()
        picks = rng.integers(0, values.size, size=(BOOTSTRAP, values.size))
        boot += values[picks].mean(axis=1)
    boot /= by_election.ngroups
    return {
        "difference": mean_log_score(diff, groups),
        "bootstrap_sd": float(boot.std()),
        "by_election": {str(k): float(v) for k, v in by_election.mean().items()},
    }


def summary(s: pd.DataFrame, groups: dict[str, str]) -> dict[str, Any]:
    stage = pd.cut(s["outstanding_share"], STAGES[0], labels=STAGES[1])
    nyt = s["count"].map(groups) == "NYT 2020"
    return {
        "coverage": float(s["covered"].mean()),
        "coverage_nyt_under_1pct": float(s.loc[nyt & (stage == "<1%"), "covered"].mean()),
        "coverage_la_under_1pct": float(s.loc[~nyt & (stage == "<1%"), "covered"].mean()),
        "confident_wrong": int(s["confident_wrong"].sum()),
        "brier": float(s["brier"].mean()),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "docs")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore", racecast.RacecastWarning)
    t0 = time.perf_counter()
    fits_by_election = {
        name: fit_releases(v, priors=racecast.Priors(), draws=400, seed=SEED) for name, v in library().items()
    }
    groups = {f.count_name: name for name, v in fits_by_election.items() for f in v}
    fits = [f for v in fits_by_election.values() for f in v]
    print(f"{len(fits)} releases fitted in {time.perf_counter() - t0:.0f} s", flush=True)
    rng = np.random.default_rng(SEED)
    shipped = scores(fits, None)
    rows = [{"change": "none (the shipped defaults)", "term": "", **summary(shipped, groups)}]
    for change in CHANGES:
        s = scores(fits, change)
        rows.append(
            {"change": change[0], "term": change[1], **paired(shipped, s, groups, rng), **summary(s, groups)}
        )
        print(rows[-1], flush=True)
    record = {
        "library": {k: len(v) for k, v in fits_by_election.items()},
        "bootstrap": BOOTSTRAP,
        "seed": SEED,
        "racecast_version": racecast.__version__,
        "rows": rows,
    }
    (args.out / "term_evidence.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    display = [
        [
            r["change"],
            "" if "difference" not in r else f"{r['difference']:+.4f} ± {r['bootstrap_sd']:.4f}",
            ""
            if "by_election" not in r
            else " / ".join(
                f"{r['by_election'][k]:+.4f}"
                for k in ("LA November 2022", "LA June 2022 primary", "NYT 2020")
            ),
            f"{r['coverage']:.3f}",
            f"{r['coverage_la_under_1pct']:.3f} / {r['coverage_nyt_under_1pct']:.3f}",
            str(r["confident_wrong"]),
            f"{r['brier']:.4f}",
        ]
        for r in rows
    ]
    table = {
        "columns": [
            "change to the shipped defaults",
            "log score vs shipped (± bootstrap sd)",
            "LA November / LA primary / NYT",
            "coverage",
            "< 1% stage, LA / NYT",
            "confident wrong",
            "Brier",
        ],
        "display": display,
    }
    missing = update_page(args.out / "model.md", {"term_evidence": table})
    if missing:
        print("docs/model.md has no '<!-- table: term_evidence -->' marker; the table was not written")
    print(f"done in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
