"""Batch size and place on the NYT 2020 feed (issue 14, item 5): measured, and one model of it tried.

By default (``Priors.batch_size_floor`` 1) racecast's batch deviations do not depend on batch
size: a county-wide drop of 100,000 votes deviates from its type's lean as much as a rural
update of 500 (``docs/model.md``, *Assumptions and edges*).  On the NYT 2020 feed the largest
batches scatter far less than the smallest.  Is that size, or place?  The feed's
``counties_partition`` column says which counties each update came from, so the two can be
told apart.  This script does two things.

**1. Where the scatter comes from.**  Per state, the *batches* are ``Count.batches`` of
``read_nyt2020``'s count with votes for both candidates, at least 200 of them, and a *place*:
the county that gave at least 80% of the update (``counties_partition``).  Their log-odds
``y = log(Biden / Trump)`` have multinomial variance ``1/b + 1/t``; what is left over is the
batch's *extra variance*.  It is measured two ways, in each third of the batches by size:

* **against the state**: ``(y - ybar)^2 - (1/b + 1/t)``, ``ybar`` the votes-weighted mean of the
  state's batches (place and within-place scatter together);
* **within the county**: the same with ``ybar`` the mean of the batch's own county (counties with
  two or more batches), times ``m / (m - 1)`` for a county of ``m`` batches (the deviation from
  a mean that includes the batch itself is that much smaller).

The ratio *small / large third* says how much the scatter shrinks with size; a 90% interval
comes from resampling the counties (the units that share a place) 1,000 times.

**2. The term, replayed.**  ``Priors.batch_size_floor`` makes batch ``k``'s variance
``sigma_batch^2 * (floor + (1 - floor) * n_ref / n_k)``, ``n_ref`` the median counted batch of
its type and place; ``floor = 1`` is racecast 0.1's size-free variance.  Two references:

* **size within place**: the count as read, with its counties: a large batch is authoritative
  only against smaller batches *of its own county*;
* **size**: every release put in one place (``n_ref`` the median batch of the whole type), the
  size weighting that issue 14 warned about: large batches are authoritative whatever their
  place;
* **size across placed batches**: every release *with* a place put in one place, the others
  (the statewide snapshots of election night) in none: a large county's batch is
  authoritative against a small county's, a statewide snapshot keeps ``sigma_batch^2``.

Every release of the six NYT states and (by size alone: they have no places) of the two LA
mayoral counts is replayed as ``benchmarks/calibration_real.py`` does (fast engine, 2,000
draws, 90% intervals, seed 2020) and scored against the final result.

Run from the repository root (racecast importable, e.g. ``PYTHONPATH=src``); it reads
``../shared/data/nyt2020/battleground-state-changes.csv`` in place (third-party: never copied
into the repository; without it the script stops and says where to put it) and writes
``docs/batch_size_place.json`` and the ``batch_size`` and ``batch_size_replay`` tables of
``docs/model.md``::

    python benchmarks/batch_size_place.py
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from calibration_real import LA_GENERAL, LA_PRIMARY, NYT, SHARED, STATES, _replay_rows, update_page

import racecast
from racecast.evaluation import calibration as cal
from racecast.io.nyt2020 import PLACE_SHARE
from racecast.model.batch_size import batch_places

REPO = Path(__file__).resolve().parents[1]
FEED = SHARED / "nyt2020" / "battleground-state-changes.csv"
MIN_VOTES = 200
BOOTSTRAP = 1000
SEED = 2020
#: (label, ``Priors.batch_size_floor``, reference) replayed; floor 1 is racecast 0.1's size-free variance.
VARIANTS: tuple[tuple[str, float, str], ...] = (
    ("none (floor 1)", 1.0, "size"),
    ("size, floor 0.8", 0.8, "size"),
    ("size, floor 0.6", 0.6, "size"),
    ("size, floor 0.3", 0.3, "size"),
    ("size within place, floor 0.6", 0.6, "place"),
    ("size within place, floor 0.3", 0.3, "place"),
    ("size within place, floor 0.1", 0.1, "place"),
    ("size across placed batches, floor 0.6", 0.6, "placed"),
    ("size across placed batches, floor 0.3", 0.3, "placed"),
)


# --------------------------------------------------------------------------- the feed's batches
def feed_batches(state: str) -> pd.DataFrame:
    """The state's batches (``Count.batches``): Biden's and Trump's votes and the batch's place.

    The place is ``read_nyt2020``'s (the county with at least 80% of the update's votes by
    ``counties_partition``), ``None`` for a batch with no such county.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        count = racecast.read_nyt2020(FEED, state=state)
    b = count.batches()
    return pd.DataFrame({"biden": b["Biden"], "trump": b["Trump"], "place": batch_places(count, b)})


# --------------------------------------------------------------------------- 1. where the scatter comes from
def _extra_variances(b: pd.DataFrame) -> pd.DataFrame:
    b = b.copy()
    b["n"] = b.biden + b.trump
    b["y"] = np.log(b.biden / b.trump)
    b["sv"] = 1.0 / b.biden + 1.0 / b.trump
    b["vs_state"] = (b.y - np.average(b.y, weights=b.n)) ** 2 - b.sv
    m = b.groupby("place").y.transform("count")
    dev = b.y - b.groupby("place").y.transform("mean")
    b["within"] = np.where(m >= 2, dev**2 * m / (m - 1).clip(lower=1) - b.sv, np.nan)
    b["third"] = pd.qcut(b.n.rank(method="first"), 3, labels=["small", "middle", "large"])
    return b


def _ratio(b: pd.DataFrame, col: str) -> float:
    s = b.dropna(subset=[col]).groupby("third", observed=True)[col].mean()
    return float(s["small"] / s["large"]) if s.get("large", 0) > 0 else float("nan")


def scatter_by_size(state: str, rng: np.random.Generator) -> dict[str, Any]:
    """Extra variance by size third, against the state and within the county, with bootstrap ratios."""
    b = feed_batches(state)
    b = b[(b.biden > 0) & (b.trump > 0) & (b.biden + b.trump >= MIN_VOTES) & b.place.notna()].copy()
    e = _extra_variances(b)
    out: dict[str, Any] = {"state": state, "batches": len(e), "counties": int(e.place.nunique())}
    for third, g in e.groupby("third", observed=True):
        out[f"median_votes_{third}"] = float(g.n.median())
        out[f"vs_state_{third}"] = float(g.vs_state.mean())
        out[f"within_{third}"] = float(g.within.mean())
    out["ratio_vs_state"] = _ratio(e, "vs_state")
    out["ratio_within"] = _ratio(e, "within")
    counties = e.place.unique()
    boot: dict[str, list[float]] = {"vs_state": [], "within": []}
    for _ in range(BOOTSTRAP):
        pick = rng.choice(counties, size=counties.size, replace=True)
        res = pd.concat([b[b.place == c].assign(place=f"{c}#{k}") for k, c in enumerate(pick)])
        eb = _extra_variances(res)
        for col in boot:
            boot[col].append(_ratio(eb, col))
    for col, vals in boot.items():
        lo, hi = np.nanquantile(np.array(vals), [0.05, 0.95])
        out[f"ratio_{col}_90"] = [float(lo), float(hi)]
    return out


# --------------------------------------------------------------------------- 2. the term, replayed
def _floor(floor: float) -> racecast.Priors:
    return racecast.Priors(batch_size_floor=floor)


def _one_place(count: racecast.Count) -> racecast.Count:
    """The count with every release in one place: sizes relative to the whole type's median batch."""
    return dataclasses.replace(count, text=count.text.assign(place="everywhere"))


def _placed_as_one(count: racecast.Count) -> racecast.Count:
    """The releases with a place put in one place, the others (statewide snapshots) in none."""
    placed = count.text["place"].map(lambda p: "placed" if isinstance(p, str) and p.strip() else "")
    return dataclasses.replace(count, text=count.text.assign(place=placed))


#: How each reference relabels a count's places before the replay.
RELABEL = {"place": lambda c: c, "size": _one_place, "placed": _placed_as_one}


def replay_rows(floor: float, reference: str) -> pd.DataFrame:
    """Every release of the six NYT states (and, by size alone, the LA mayoral counts) at ``floor``."""
    frames = []
    for st in STATES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", racecast.RacecastWarning)
            count = racecast.read_nyt2020(FEED, state=st)
        frames.append(_replay_rows(RELABEL[reference](count), NYT, st, priors=_floor(floor)))
    if reference == "size":
        for name, label in (
            ("la_mayor_2022_general.csv", LA_GENERAL),
            ("la_mayor_2022_primary.csv", LA_PRIMARY),
        ):
            count = _one_place(racecast.read_count(SHARED / name))
            frames.append(_replay_rows(count, label, label, priors=_floor(floor)))
    return pd.concat(frames, ignore_index=True)


def _score(rows: pd.DataFrame) -> dict[str, Any]:
    s = cal.summary(rows).iloc[0]
    stages = cal.coverage_by_stage(rows).set_index("stage")["coverage"]
    return {
        "forecasts": int(s["forecasts"]),
        "coverage": float(s["coverage"]),
        "brier": float(s["brier"]),
        "wrong_calls": int(s["wrong_calls"]),
        "stages": {k: float(v) for k, v in stages.items() if k != "all"},
    }


def replay_summary(label: str, floor: float, reference: str) -> dict[str, Any]:
    rows = replay_rows(floor, reference)
    nyt = rows[rows.dataset == NYT]
    out: dict[str, Any] = {"variant": label, "floor": floor, "reference": reference, "nyt": _score(nyt)}
    out["nyt_states"] = {st: _score(nyt[nyt.contest == st]) for st in STATES}
    wrong = cal.confident_wrong_calls(nyt)
    out["nyt_wrong_calls"] = [f"{r.contest} release {r.release}" for r in wrong.itertuples()]
    for name in (LA_GENERAL, LA_PRIMARY):
        part = rows[rows.dataset == name]
        out[name] = _score(part) if len(part) else None
    return out


# --------------------------------------------------------------------------- tables
def _f(x: float | None, digits: int = 3) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _ratio_cell(r: dict[str, Any], col: str) -> str:
    lo, hi = r[f"ratio_{col}_90"]
    return f"{_f(r[f'ratio_{col}'], 1)} ({_f(lo, 1)}–{_f(hi, 1)})"


def scatter_table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    display = [
        [
            r["state"],
            f"{r['batches']} / {r['counties']}",
            " / ".join(f"{r[f'median_votes_{t}']:,.0f}" for t in ("small", "middle", "large")),
            " / ".join(_f(r[f"vs_state_{t}"], 2) for t in ("small", "middle", "large")),
            _ratio_cell(r, "vs_state"),
            " / ".join(_f(r[f"within_{t}"], 2) for t in ("small", "middle", "large")),
            _ratio_cell(r, "within"),
        ]
        for r in rows
    ]
    return {
        "columns": [
            "state",
            "batches / counties",
            "median votes, small / middle / large third",
            "extra variance against the state",
            "small / large (90%)",
            "extra variance within the county",
            "small / large (90%)",
        ],
        "display": display,
    }


def replay_table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    states = ("Arizona", "Nevada", "Pennsylvania", "Georgia", "North Carolina", "Alaska")
    display = []
    for r in rows:
        gen = r.get(LA_GENERAL)
        display.append(
            [
                r["variant"],
                _f(r["nyt"]["coverage"]),
                " / ".join(_f(r["nyt_states"][s]["coverage"], 2) for s in states),
                str(r["nyt"]["wrong_calls"]),
                _f(r["nyt"]["brier"]),
                " / ".join(_f(r["nyt_states"][s]["brier"], 3) for s in states[:3]),
                "—" if gen is None else f"{_f(gen['coverage'])} / {gen['wrong_calls']} / {_f(gen['brier'])}",
            ]
        )
    return {
        "columns": [
            "batch variance",
            "NYT coverage",
            "AZ / NV / PA / GA / NC / AK",
            "confident wrong",
            "NYT Brier",
            "Brier AZ / NV / PA",
            "LA mayor general: coverage / wrong / Brier",
        ],
        "display": display,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "docs")
    args = ap.parse_args(argv)
    if not FEED.is_file():
        print(
            f"{FEED} is missing: put the NYT 2020 feed (battleground-state-changes.csv) there",
            file=sys.stderr,
        )
        return 2
    t0 = time.perf_counter()
    rng = np.random.default_rng(SEED)
    scatter = [scatter_by_size(st, rng) for st in ("Arizona", "Nevada", "Pennsylvania", "Georgia")]
    for r in scatter:
        print(r, flush=True)
    replays = []
    for label, floor, reference in VARIANTS:
        replays.append(replay_summary(label, floor, reference))
        print(replays[-1], flush=True)
    record = {
        "feed": FEED.name,
        "min_votes": MIN_VOTES,
        "place_share": PLACE_SHARE,
        "bootstrap": BOOTSTRAP,
        "seed": SEED,
        "racecast_version": racecast.__version__,
        "scatter": scatter,
        "replays": replays,
    }
    (args.out / "batch_size_place.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    tables = {"batch_size": scatter_table(scatter), "batch_size_replay": replay_table(replays)}
    missing = update_page(args.out / "model.md", tables)
    if missing:
        print(f"docs/model.md lacks the table markers {missing}; those tables were not written")
    print(f"done in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
