"""Place effects (``Priors.place_sd``) on the real counts that carry places.

Replays, release by release, the NYT 2020 feed for six states (``../shared/data/nyt2020``,
read in place; each update's place is the county with at least 80% of its votes, from
``counties_partition``) and the held-out counts of ``benchmarks/heldout/`` (their ``place``
column), once per value of ``place_sd`` (0 is the shipped model without places), with
every other setting as shipped: fast engine, 2,000 draws, 90% intervals, seed 2020, as
``benchmarks/calibration_real.py`` replays.  The LA counts have no places and are the
same at every value.

Run from the repository root (racecast importable, e.g. with ``PYTHONPATH=src``)::

    python benchmarks/place_effects.py [--values 0 0.25 0.5 1] [--out docs/place_effects.json]

It writes the JSON record and rewrites the tables of ``docs/model.md`` marked
``<!-- table: place_effects -->`` and ``<!-- table: place_effects_states -->``.  About a
minute per value on one core.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
from calibration_real import SHARED, STATES, _f, _plain, _pts, _replay_rows, markdown, update_page
from heldout_counts import heldout_counts

import racecast
from racecast.evaluation import calibration as cal

ROOT = Path(__file__).resolve().parent.parent
NYT = "NYT 2020, six states"
HELD = "held-out counts (12)"


def rows_at(place_sd: float, nyt: dict[str, racecast.Count], held: dict[str, racecast.Count]) -> pd.DataFrame:
    """Calibration rows of every placed count at one ``place_sd``."""
    priors = racecast.Priors(place_sd=place_sd)
    frames = [_replay_rows(c, NYT, st, priors=priors) for st, c in nyt.items()]
    frames += [_replay_rows(c, HELD, name, priors=priors) for name, c in held.items()]
    return pd.concat(frames, ignore_index=True).assign(place_sd=place_sd)


def build_tables(rows: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """``place_effects``: per data set and value (with stages); ``place_effects_states``: per NYT state."""
    tables: dict[str, dict[str, Any]] = {}
    stages = cal.coverage_by_stage(rows, by=["dataset", "place_sd"]).pivot_table(
        index=["dataset", "place_sd"], columns="stage", values="coverage"
    )
    overall = cal.summary(rows, by=["dataset", "place_sd"]).set_index(["dataset", "place_sd"])
    table = overall.join(stages).reset_index()
    order = ["< 1%", "1-5%", "5-20%", "> 20%"]
    tables["place_effects"] = {
        "columns": ["data set", "place_sd", "coverage", *order, "width (pts)", "Brier", "wrong calls"],
        "display": [
            [
                str(r["dataset"]),
                f"{r['place_sd']:g}",
                _f(r["coverage"], 3),
                *(_f(r[s], 2) for s in order),
                _pts(r["width"]),
                _f(r["brier"], 3),
                str(int(r["wrong_calls"])),
            ]
            for _, r in table.iterrows()
        ],
        "data": json.loads(table.to_json(orient="records")),
    }
    states = cal.summary(rows, by=["contest", "place_sd"])
    wide = states.pivot_table(index="contest", columns="place_sd", values=["coverage", "brier"])
    values = sorted(rows["place_sd"].unique())
    tables["place_effects_states"] = {
        "columns": ["count", *(f"coverage / Brier at {v:g}" for v in values)],
        "display": [
            [
                str(c),
                *(
                    f"{_f(wide.loc[c, ('coverage', v)], 2)} / {_f(wide.loc[c, ('brier', v)], 3)}"
                    for v in values
                ),
            ]
            for c in wide.index
        ],
        "data": json.loads(states.to_json(orient="records")),
    }
    return tables


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--values", type=float, nargs="+", default=[0.0, 0.25, 0.5, 1.0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "place_effects.json")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    path = SHARED / "nyt2020" / "battleground-state-changes.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        nyt = {st: racecast.read_nyt2020(path, state=st) for st in STATES}
    held = heldout_counts()
    rows = pd.concat([rows_at(v, nyt, held) for v in args.values], ignore_index=True)
    tables = build_tables(rows)
    for name, table in tables.items():
        print(f"\n## {name}\n\n{markdown(table)}")
    record = {
        "racecast": racecast.__version__,
        "settings": {"seed": 2020, "engine": "fast", "draws": 2000, "interval": 0.9, "values": args.values},
        "seconds": round(time.perf_counter() - t0, 1),
        "tables": tables,
    }
    args.out.write_text(json.dumps(record, indent=1, default=_plain) + "\n", encoding="utf-8")
    missing = update_page(ROOT / "docs" / "model.md", tables)
    if missing:
        print(f"model.md has no table marker for: {missing}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
