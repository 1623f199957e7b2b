"""Calibration of racecast on real counts (issues 14 and 15).

Replays, release by release, every real count in ``../shared/data`` (read in place, never
copied) and holds each forecast made before the final release against the final result,
with the tables of ``racecast.evaluation.calibration``:

- the whole LA County 2022 ballot (430 contests, 14 releases; ``la_county_2022/``), every
  contest under its own rule, with ``racecast.evaluation.ballot_replay.replay_ballot``,
  once one contest at a time and once with the scales learned across the contests as
  the ballot stood after each release (``racecast.share_scales``);
- the NYT 2020 battleground feed, six states (``nyt2020/``, third-party: read in place);
- the LA mayor 2022 general (16 rows to the certified result) and primary.

Run from the repository root (racecast importable, e.g. with ``PYTHONPATH=src``)::

    python benchmarks/calibration_real.py [--processes 2] [--out docs]

It writes ``calibration_results.json`` and one ``calibration_<table>.csv`` per table to
``--out``, prints the tables, and rewrites the tables of ``docs/calibration.md`` (each marked
``<!-- table: NAME -->``) so the page shows exactly the recorded numbers.  Fast engine,
2,000 draws, 90% intervals, seed 2020: a few minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import re
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import racecast
from racecast.evaluation import calibration as cal
from racecast.evaluation.ballot_replay import replay_ballot
from racecast.evaluation.yardstick import type_moments

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
STATES = ("Alaska", "Arizona", "Georgia", "Nevada", "North Carolina", "Pennsylvania")
SEED = 2020
BALLOT = "LA County 2022 ballot"
BALLOT_COMPETITIVE = "LA County 2022 ballot, competitive"
NYT = "NYT 2020, six states"
LA_GENERAL = "LA mayor 2022 general"
LA_PRIMARY = "LA mayor 2022 primary"


# --------------------------------------------------------------------------- replays
def ballot_rows(processes: int, shared_scales: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    ballot = racecast.read_ballot(SHARED / "la_county_2022")
    br = replay_ballot(ballot, seed=SEED, engine="fast", processes=processes, shared_scales=shared_scales)
    return br.rows.assign(dataset=BALLOT), br.contests


def _replay_rows(
    count: racecast.Count,
    dataset: str,
    contest: str,
    forecaster: Any = "racecast",
    priors: racecast.Priors | None = None,
) -> pd.DataFrame:
    kw: dict[str, Any] = {"engine": "fast", "priors": priors} if forecaster == "racecast" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        rp = racecast.replay(count, seed=SEED, progress=False, forecaster=forecaster, **kw)
    return cal.calibration_rows(rp, contest=contest).assign(dataset=dataset)


def nyt_rows(forecaster: Any = "racecast", states: tuple[str, ...] = STATES) -> pd.DataFrame:
    path = SHARED / "nyt2020" / "battleground-state-changes.csv"
    frames = []
    for st in states:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", racecast.RacecastWarning)
            count = racecast.read_nyt2020(path, state=st)
        frames.append(_replay_rows(count, NYT, st, forecaster))
    return pd.concat(frames, ignore_index=True)


def la_mayor_rows(forecaster: Any = "racecast") -> pd.DataFrame:
    frames = []
    for name, label in (("la_mayor_2022_general.csv", LA_GENERAL), ("la_mayor_2022_primary.csv", LA_PRIMARY)):
        count = racecast.read_count(SHARED / name)
        frames.append(_replay_rows(count, label, label, forecaster))
    return pd.concat(frames, ignore_index=True)


def yardstick_rows() -> pd.DataFrame:
    """The moments-based batch-type yardstick (``type_moments``) on the plurality counts."""
    frames = [
        nyt_rows(forecaster=type_moments),
        la_mayor_rows(forecaster=type_moments).query("dataset == @LA_GENERAL"),
    ]
    ballot = racecast.read_ballot(SHARED / "la_county_2022")
    for name in ballot.contests:
        count = ballot.contest(name)
        if ballot.rule(name).name != "plurality" or count.n_candidates < 2:
            continue
        frames.append(_replay_rows(count, BALLOT, name, forecaster=type_moments))
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- tables
def _f(x: Any, digits: int) -> str:
    return "" if pd.isna(x) else f"{x:.{digits}f}"


def _pts(x: Any, digits: int = 2) -> str:
    return "" if pd.isna(x) else f"{100 * x:.{digits}f}"


def _summary_display(df: pd.DataFrame, first: list[str]) -> list[list[str]]:
    return [
        [
            *(str(r[c]) for c in first),
            str(int(r["forecasts"])),
            str(int(r["intervals"])),
            _f(r["coverage"], 3),
            _pts(r["width"]),
            _f(r["brier"], 3),
            str(int(r["wrong_calls"])),
            _f(r["pit_below_5"], 3),
            _f(r["pit_above_95"], 3),
        ]
        for _, r in df.iterrows()
    ]


SUMMARY_HEAD = [
    "forecasts",
    "intervals",
    "coverage",
    "width (pts)",
    "Brier",
    "wrong calls",
    "PIT < 0.05",
    "PIT > 0.95",
]


def build_tables(
    rows: pd.DataFrame,
    contests: pd.DataFrame,
    shared: pd.DataFrame | None = None,
    yardstick: pd.DataFrame | None = None,
) -> dict[str, dict[str, Any]]:
    """Every published table: ``{name: {"columns", "display", "data"}}``."""
    ballot = rows[rows["dataset"] == BALLOT]
    comp = cal.competitive(ballot).assign(dataset=BALLOT_COMPETITIVE)
    scored = pd.concat([rows, comp], ignore_index=True)
    order = [BALLOT, BALLOT_COMPETITIVE, NYT, LA_GENERAL, LA_PRIMARY]
    scored["dataset"] = pd.Categorical(scored["dataset"], categories=order, ordered=True)
    scored = scored.sort_values(["dataset"], kind="stable")
    scored["dataset"] = scored["dataset"].astype(str)
    tables: dict[str, dict[str, Any]] = {}

    def add(name: str, columns: list[str], data: pd.DataFrame, display: list[list[str]]) -> None:
        tables[name] = {
            "columns": columns,
            "display": display,
            "data": json.loads(data.to_json(orient="records")),
        }

    overall = cal.summary(scored, by="dataset")
    add("datasets", ["data set", *SUMMARY_HEAD], overall, _summary_display(overall, ["dataset"]))
    stages = cal.coverage_by_stage(scored, by="dataset")
    add(
        "stages", ["data set", "stage", *SUMMARY_HEAD], stages, _summary_display(stages, ["dataset", "stage"])
    )
    nyt = cal.summary(rows[rows["dataset"] == NYT], by="contest")
    add("nyt_states", ["state", *SUMMARY_HEAD], nyt, _summary_display(nyt, ["contest"]))
    ballot_rules = cal.summary(ballot, by="rule")
    add("ballot_rules", ["rule", *SUMMARY_HEAD], ballot_rules, _summary_display(ballot_rules, ["rule"]))
    add_binned(add, scored[scored["dataset"].isin([BALLOT, BALLOT_COMPETITIVE, NYT])])
    add_wrong(add, rows)
    add_status(add, contests)
    if shared is not None:
        add_shared(add, ballot, shared)
    if yardstick is not None:
        add_yardstick(add, rows, yardstick)
    return tables


def add_yardstick(add: Callable[..., None], rows: pd.DataFrame, yardstick: pd.DataFrame) -> None:
    """racecast against the moments-based batch-type yardstick, on the same forecasts."""
    keys = ["dataset", "contest", "release"]
    common = yardstick[keys].drop_duplicates().merge(rows[keys].drop_duplicates())
    frames = []
    for label, part in (("racecast", rows), ("type_moments", yardstick)):
        same = part.merge(common, on=keys)
        same = same.assign(dataset=same["dataset"].where(same["dataset"] != BALLOT, f"{BALLOT}, plurality"))
        frames.append(same.assign(forecaster=label))
    both = pd.concat(frames, ignore_index=True)
    table = cal.summary(both, by=["dataset", "forecaster"])
    add(
        "yardstick",
        ["data set", "forecaster", *SUMMARY_HEAD],
        table,
        _summary_display(table, ["dataset", "forecaster"]),
    )


def add_shared(add: Callable[..., None], single: pd.DataFrame, shared: pd.DataFrame) -> None:
    """The LA ballot replayed one contest at a time and with scales shared across contests, by stage."""
    frames = []
    for label, rows in (("one contest at a time", single), ("scales shared across contests", shared)):
        for subset, part in (("all", rows), ("competitive", cal.competitive(rows))):
            frames.append(part.assign(dataset=f"{label}|{subset}"))
    both = pd.concat(frames, ignore_index=True)
    table = cal.coverage_by_stage(both, by="dataset")
    split = table["dataset"].str.split("|", expand=True)
    table = table.assign(model=split[0], contests=split[1]).drop(columns="dataset")
    add(
        "shared_scales",
        ["scales", "contests", "stage", *SUMMARY_HEAD],
        table,
        _summary_display(table, ["model", "contests", "stage"]),
    )


def add_binned(add: Callable[..., None], main: pd.DataFrame) -> None:
    """The reliability, width-vs-coverage and PIT tables of the ballot and the NYT feed."""
    rel = cal.reliability_table(main, by="dataset")
    add(
        "reliability",
        ["data set", "forecast P", "n", "mean P", "observed", "events"],
        rel.astype({"bin": str}),
        [
            [
                r["dataset"],
                str(r["bin"]),
                str(int(r["n"])),
                _f(r["mean_probability"], 3),
                _f(r["observed"], 3),
                str(int(r["events"])),
            ]
            for _, r in rel.iterrows()
        ],
    )
    width = cal.width_vs_coverage(main, by="dataset")
    add(
        "width",
        ["data set", "interval width", "intervals", "mean width (pts)", "coverage"],
        width.astype({"bin": str}),
        [
            [r["dataset"], str(r["bin"]), str(int(r["n"])), _pts(r["mean_width"], 3), _f(r["coverage"], 3)]
            for _, r in width.iterrows()
        ],
    )
    pit = cal.pit_histogram(main, by="dataset").astype({"bin": str})
    wide = pit.pivot(index="bin", columns="dataset", values="share").reindex(
        columns=[BALLOT, BALLOT_COMPETITIVE, NYT]
    )
    add(
        "pit",
        ["PIT bin", BALLOT, BALLOT_COMPETITIVE, NYT],
        pit,
        [[b, *(_f(v, 3) for v in r)] for b, r in wide.iterrows()],
    )


def add_wrong(add: Callable[..., None], rows: pd.DataFrame) -> None:
    wrong = cal.confident_wrong_calls(rows)
    cols = [
        "dataset",
        "contest",
        "release",
        "candidate",
        "probability",
        "final_share",
        "lower",
        "upper",
        "outstanding",
    ]
    wrong = wrong[cols].sort_values(["dataset", "contest", "release"], kind="stable").reset_index(drop=True)
    display = [
        [
            r["dataset"],
            r["contest"],
            str(r["release"]),
            r["candidate"],
            _f(r["probability"], 3),
            _pts(r["final_share"]),
            f"{_pts(r['lower'])}-{_pts(r['upper'])}",
            _pts(r["outstanding"], 1),
        ]
        for _, r in wrong.iterrows()
    ]
    add(
        "wrong_calls",
        [
            "data set",
            "contest",
            "release",
            "candidate (event did not happen)",
            "P",
            "final share (%)",
            "90% interval (%)",
            "outstanding (%)",
        ],
        wrong,
        display,
    )


def add_status(add: Callable[..., None], contests: pd.DataFrame) -> None:
    c = contests.reset_index()
    c["rule"] = c["rule"].astype(str)
    t = (
        c.groupby(["rule", "status"], sort=True)
        .agg(contests=("contest", "size"), competitive=("competitive", "sum"), forecasts=("forecasts", "sum"))
        .reset_index()
    )
    add(
        "ballot_status",
        ["rule", "status", "contests", "competitive", "forecasts"],
        t,
        [
            [
                r["rule"],
                r["status"],
                str(int(r["contests"])),
                str(int(r["competitive"])),
                str(int(r["forecasts"])),
            ]
            for _, r in t.iterrows()
        ],
    )


def markdown(table: dict[str, Any]) -> str:
    head = "| " + " | ".join(table["columns"]) + " |"
    rule = "|" + "---|" * len(table["columns"])
    body = ["| " + " | ".join(row) + " |" for row in table["display"]]
    return "\n".join([head, rule, *body]) + "\n"


def update_page(page: Path, tables: dict[str, dict[str, Any]]) -> list[str]:
    """Rewrite each ``<!-- table: NAME -->`` table of the page; the names it lacks."""
    if not page.is_file():
        return list(tables)
    text = page.read_text(encoding="utf-8")
    missing = []
    for name, table in tables.items():
        pattern = re.compile(rf"(<!-- table: {name} -->\n\n)(?:\|.*\n)+")
        if not pattern.search(text):
            missing.append(name)
            continue
        text = pattern.sub(lambda m, t=table: m.group(1) + markdown(t), text)
    page.write_text(text, encoding="utf-8")
    return missing


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--processes", type=int, default=2, help="worker processes for the ballot replay")
    ap.add_argument("--out", type=Path, default=ROOT / "docs")
    args = ap.parse_args(argv)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    b_rows, contests = ballot_rows(args.processes)
    seconds["ballot"] = time.perf_counter() - t0
    print(f"LA County ballot replayed in {seconds['ballot']:.0f} s", flush=True)
    t_shared = time.perf_counter()
    shared_rows, _ = ballot_rows(args.processes, shared_scales=True)
    seconds["ballot_shared_scales"] = time.perf_counter() - t_shared
    print(f"... with scales shared across contests in {seconds['ballot_shared_scales']:.0f} s", flush=True)
    t1 = time.perf_counter()
    n_rows = nyt_rows()
    seconds["nyt"] = time.perf_counter() - t1
    print(f"NYT six states replayed in {seconds['nyt']:.0f} s", flush=True)
    t2 = time.perf_counter()
    la_rows = la_mayor_rows()
    seconds["la_mayor"] = time.perf_counter() - t2
    rows = pd.concat([b_rows, n_rows, la_rows], ignore_index=True)
    t3 = time.perf_counter()
    yard = yardstick_rows()
    seconds["yardstick"] = time.perf_counter() - t3
    tables = build_tables(rows, contests, shared_rows, yard)
    seconds["total"] = time.perf_counter() - t0
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        pd.DataFrame(table["data"]).to_csv(out / f"calibration_{name}.csv", index=False)
        print(f"\n## {name}\n\n{markdown(table)}")
    record = {
        "racecast": racecast.__version__,
        "settings": {"seed": SEED, "engine": "fast", "draws": 2000, "interval": 0.9},
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
        "tables": tables,
    }
    (out / "calibration_results.json").write_text(
        json.dumps(record, indent=1, default=_plain) + "\n", encoding="utf-8"
    )
    missing = update_page(out / "calibration.md", tables)
    if missing:
        print(f"calibration.md has no table marker for: {missing}")
    print(f"\nwrote {out / 'calibration_results.json'} and the CSVs in {seconds['total']:.0f} s")
    return 0


def _plain(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    return str(x)


if __name__ == "__main__":
    raise SystemExit(main())
