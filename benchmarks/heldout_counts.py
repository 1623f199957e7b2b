"""racecast on real counts it never learned from: counts compiled from the press (issue 14).

Every other real count racecast is scored on is also in the library its defaults were
learned from (``benchmarks/learn_priors.py``), or from the same election.  The counts in
``benchmarks/heldout/`` are from other elections, compiled release by release from
press reports after the defaults were fixed (their sources are in
``benchmarks/heldout/SOURCES.md`` and in each row's ``source`` column), and nothing was
tuned on them.  Each is replayed release by release with:

- ``racecast``: the shipped defaults (fast engine, 2,000 draws, 90% intervals);
- ``racecast 0.1``: [`Priors.model_only`][racecast.Priors.model_only], every
  simulation term off and the hand-set scales (the "before");
- ``type_moments``: the moments-based batch-type yardstick.

Run from the repository root (racecast importable, e.g. with ``PYTHONPATH=src``)::

    python benchmarks/heldout_counts.py [--out docs]

It writes ``heldout_results.json`` (the tables and every forecast's win probability)
to ``--out``, prints the tables and rewrites the tables of ``docs/calibration.md``
marked ``<!-- table: heldout -->``, ``<!-- table: heldout_stages -->`` and
``<!-- table: heldout_path -->``.  A few seconds.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
from calibration_real import SEED, _f, _plain, _pts, markdown, update_page

import racecast
from racecast.evaluation import calibration as cal
from racecast.evaluation.yardstick import type_moments

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = Path(__file__).resolve().parent / "heldout"
FORECASTERS = ("racecast", "racecast 0.1", "type_moments")


def heldout_counts(folder: Path = HELDOUT) -> dict[str, racecast.Count]:
    """Every count file of ``folder`` (sorted by name), read with racecast's own reader.

    Their warnings (a registrar's correction, a recount's) are what the files' notes
    document, so they are not repeated here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        return {path.stem: racecast.read_count(path) for path in sorted(folder.glob("*.csv"))}


def replay_rows(count: racecast.Count, name: str, forecaster: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Calibration rows and the replay table of one count under one forecaster."""
    kwargs: dict[str, Any]
    if forecaster == "racecast":
        kwargs = {"forecaster": "racecast", "engine": "fast"}
    elif forecaster == "racecast 0.1":
        kwargs = {"forecaster": "racecast", "engine": "fast", "priors": racecast.Priors.model_only()}
    else:
        kwargs = {"forecaster": type_moments}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        rp = racecast.replay(count, seed=SEED, progress=False, **kwargs)
    rows = cal.calibration_rows(rp, contest=name).assign(forecaster=forecaster)
    return rows, rp.table


def _leader_path(rows: pd.DataFrame, final: pd.Series) -> pd.DataFrame:
    """The eventual winner's probability and interval at each release, one column per forecaster."""
    winner = str(final.idxmax())
    part = rows[rows["candidate"] == winner]
    wide = part.pivot_table(
        index=["contest", "release", "outstanding"], columns="forecaster", values="probability"
    )
    return wide.reset_index()


def _summary_table(df: pd.DataFrame, keys: list[str], heads: list[str]) -> dict[str, Any]:
    """A summary table (``cal.summary`` columns) with ``keys`` first, headed ``heads``."""
    return {
        "columns": [*heads, "forecasts", "coverage", "width (pts)", "Brier", "wrong calls"],
        "display": [
            [
                *(str(r[k]) for k in keys),
                str(int(r["forecasts"])),
                _f(r["coverage"], 3),
                _pts(r["width"]),
                _f(r["brier"], 3),
                str(int(r["wrong_calls"])),
            ]
            for _, r in df.iterrows()
        ],
        "data": json.loads(df.to_json(orient="records")),
    }


def build_tables(rows: pd.DataFrame, paths: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """``heldout``: one line per count and forecaster; ``heldout_stages``: by stage of the count;
    ``heldout_path``: the eventual winner's probability after each release."""
    tables: dict[str, dict[str, Any]] = {}
    summary = cal.summary(rows, by=["contest", "forecaster"])
    everything = cal.summary(rows, by="forecaster").assign(contest="all")
    summary = pd.concat([summary, everything], ignore_index=True)
    order = {f: i for i, f in enumerate(FORECASTERS)}
    summary = summary.sort_values(
        ["contest", "forecaster"],
        key=lambda s: s.map(order) if s.name == "forecaster" else s.eq("all").astype(str) + s,
    )
    tables["heldout"] = _summary_table(summary, ["contest", "forecaster"], ["count", "forecaster"])
    stages = cal.coverage_by_stage(rows, by="forecaster")
    stages = stages.sort_values("forecaster", key=lambda s: s.map(order), kind="stable")
    tables["heldout_stages"] = _summary_table(stages, ["forecaster", "stage"], ["forecaster", "stage"])
    cols = [f for f in FORECASTERS if f in paths.columns]
    tables["heldout_path"] = {
        "columns": ["count", "release", "share outstanding", *(f"P(winner), {f}" for f in cols)],
        "display": [
            [
                str(r["contest"]),
                str(int(r["release"])),
                f"{100 * r['outstanding']:.1f}%",
                *(_f(r[f], 3) for f in cols),
            ]
            for _, r in paths.iterrows()
        ],
        "data": json.loads(paths.to_json(orient="records")),
    }
    return tables


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs")
    ap.add_argument("--folder", type=Path, default=HELDOUT, help="folder of count CSVs")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    frames, paths = [], []
    for name, count in heldout_counts(args.folder).items():
        per = [replay_rows(count, name, f)[0] for f in FORECASTERS]
        both = pd.concat(per, ignore_index=True)
        frames.append(both)
        paths.append(_leader_path(both, count.totals))
        print(f"{name}: {len(count)} releases replayed", flush=True)
    rows = pd.concat(frames, ignore_index=True)
    tables = build_tables(rows, pd.concat(paths, ignore_index=True))
    for name, table in tables.items():
        print(f"\n## {name}\n\n{markdown(table)}")
    record = {
        "racecast": racecast.__version__,
        "settings": {"seed": SEED, "engine": "fast", "draws": 2000, "interval": 0.9},
        "seconds": round(time.perf_counter() - t0, 1),
        "tables": tables,
    }
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=1, default=_plain) + "\n"
    (out / "heldout_results.json").write_text(text, encoding="utf-8")
    missing = update_page(out / "calibration.md", tables)
    if missing:
        print(f"calibration.md has no table marker for: {missing}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
