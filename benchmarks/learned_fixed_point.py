"""Are the shipped scales and terms a fixed point of learning them in turn, and is batch_sd inside its grid?

``benchmarks/learn_priors.py`` learns the simulation terms at the hand-set model scales,
then the model's scales (``type_sd``, ``batch_sd``) with those terms, then the terms again at
the chosen scales: in turn, not jointly.  Two checks on the whole library (the same counts,
fits of 400 draws, seed 2022):

1. **One more round.** The scales learned again with the *shipped* terms
   (``racecast.learned_scales.learn_scales``), then the terms learned again at those scales
   (``racecast.learn_priors``, two passes from every term off).  If both come back as
   shipped, the alternation has converged: no single coordinate — a scale pair or one term —
   can improve the library's log score from the shipped defaults.
2. **The edge of the scale grid.** ``SCALES_GRID`` stops at ``batch_sd`` 0.3, which is what
   is learned; the library is scored at 0.4, 0.5 and 0.7 too (with ``type_sd`` 0.25 and
   0.35), refitted, with the shipped terms.

Run from the repository root (racecast importable, e.g. ``PYTHONPATH=src``); it reads the
library in place from ``../shared/data`` and writes ``docs/priors-fixed-point.json``::

    python benchmarks/learned_fixed_point.py
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
import warnings
from pathlib import Path

from learn_priors import START, library

import racecast
from racecast.learn import learn_priors, mean_log_score, score_releases
from racecast.learned_scales import SCALES_GRID, learn_scales
from racecast.release_fits import ReleaseFit, fit_releases
from racecast.settings import DEFAULT_OUTSTANDING_SD

REPO = Path(__file__).resolve().parents[1]
SEED = 2022
DRAWS = 400
BEYOND = ((0.35, 0.4), (0.35, 0.5), (0.35, 0.7), (0.25, 0.4), (0.25, 0.5))
"""``(type_sd, batch_sd)`` pairs beyond ``SCALES_GRID``'s largest ``batch_sd``."""


def _fits(counts: dict[str, list[racecast.Count]], type_sd: float, batch_sd: float) -> list[ReleaseFit]:
    model = racecast.Priors.model_only(type_sd=type_sd, batch_sd=batch_sd)
    return [f for v in counts.values() for f in fit_releases(v, priors=model, draws=DRAWS, seed=SEED)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "priors-fixed-point.json")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore", racecast.RacecastWarning)
    t0 = time.perf_counter()
    counts = library()
    groups = {c.name: election for election, v in counts.items() for c in v}
    fits = {}
    for values in itertools.product(*SCALES_GRID.values()):
        at = tuple(float(v) for v in values)
        fits[at] = _fits(counts, *at)
    shipped = racecast.Priors()
    scales = learn_scales(fits, priors=shipped, outstanding_sd=DEFAULT_OUTSTANDING_SD, groups=groups)
    chosen = tuple(float(scales.scales()[k]) for k in SCALES_GRID)
    print(f"scales learned at the shipped terms: {chosen} ({time.perf_counter() - t0:.0f} s)", flush=True)
    terms = learn_priors(fits[chosen], priors=START, passes=2, groups=groups)
    print(f"terms learned at those scales: {terms.to_dict()} ({time.perf_counter() - t0:.0f} s)", flush=True)
    beyond = []
    for type_sd, batch_sd in BEYOND:
        s = score_releases(
            _fits(counts, type_sd, batch_sd),
            racecast.Priors(type_sd=type_sd, batch_sd=batch_sd),
            DEFAULT_OUTSTANDING_SD,
        )
        beyond.append(
            {
                "type_sd": type_sd,
                "batch_sd": batch_sd,
                "log_score": mean_log_score(s, groups),
                "coverage": float(s["covered"].mean()),
                "brier": float(s["brier"].mean()),
                "confident_wrong": int(s["confident_wrong"].sum()),
            }
        )
        print(beyond[-1], flush=True)
    shipped_values = {k: getattr(shipped, k) for k in terms.to_dict() if hasattr(shipped, k)}
    learned_values = {k: v for k, v in terms.to_dict().items() if k in shipped_values}
    record = {
        "scales_at_shipped_terms": dict(zip(SCALES_GRID, chosen, strict=True)),
        "scales_table": scales.table.round(4).to_dict(orient="records"),
        "terms_at_those_scales": terms.to_dict(),
        "fixed_point": chosen == (shipped.type_sd, shipped.batch_sd)
        and learned_values == shipped_values
        and terms.outstanding_sd == DEFAULT_OUTSTANDING_SD,
        "beyond_the_grid": beyond,
        "draws": DRAWS,
        "seed": SEED,
        "racecast_version": racecast.__version__,
    }
    args.out.write_text(json.dumps(record, indent=2, default=float) + "\n", encoding="utf-8")
    print(f"fixed point: {record['fixed_point']}; written {args.out} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
