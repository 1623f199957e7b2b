"""Are the candidates who decide a multi-candidate contest covered worse than the others?

racecast gives every candidate of a contest one type spread and one batch spread.  Where most
candidates keep their shares and two swap, the shared spreads come out small, and the two
who swap (the ones a seat turns on) could be under-covered: the LA County ballot's five
confident wrong calls at Lynwood are of that kind.  This script asks whether that is a
pattern.  It replays the LA County 2022 ballot (fast engine, seed 2020, the shipped
defaults, as ``benchmarks/calibration_real.py``), keeps the contests with three or more
candidates (plurality and seats rules), and splits their candidates by the final result:
*contenders* finished last in or first out (rank = seats or seats + 1), the rest did not.
It compares the 90% coverage of the final share and the PIT tails of the two groups, by
number of seats and by stage of the count, and lists the contests whose contenders were
covered worst.  (The split uses the outcome; it is an evaluation, not a forecast.)

Run from the repository root (racecast importable, e.g. ``PYTHONPATH=src``); it reads
``../shared/data/la_county_2022`` in place and writes the ``contenders`` and
``contenders_worst`` tables of ``docs/calibration.md``::

    python benchmarks/contenders.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from calibration_real import SHARED, ballot_rows, update_page

REPO = Path(__file__).resolve().parents[1]


def _with_contenders(rows: pd.DataFrame) -> pd.DataFrame:
    results = pd.read_csv(SHARED / "la_county_2022" / "results.csv")
    seats = results.drop_duplicates("contest").set_index("contest")["vote_for"].fillna(1).astype(int)
    final = rows.drop_duplicates(["contest", "candidate"])[["contest", "candidate", "final_share"]].copy()
    final["rank"] = final.groupby("contest")["final_share"].rank(ascending=False, method="first")
    out = rows.merge(final[["contest", "candidate", "rank"]], on=["contest", "candidate"])
    out["seats"] = out["contest"].map(seats)
    out["candidates"] = out.groupby(["contest", "release"])["candidate"].transform("size")
    out = out[(out["candidates"] >= 3) & (out["rule"] != "threshold")]
    return out.assign(contender=(out["rank"] == out["seats"]) | (out["rank"] == out["seats"] + 1))


def _agg(part: pd.DataFrame) -> pd.Series:
    return pd.Series(
        {
            "intervals": len(part),
            "coverage": part["covered"].mean(),
            "pit_low": (part["pit"] < 0.05).mean(),
            "pit_high": (part["pit"] > 0.95).mean(),
            "width": part["width"].mean(),
        }
    )


def tables(rows: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The ``contenders`` (by seats and stage) and ``contenders_worst`` tables."""
    rows = _with_contenders(rows)
    who = rows["contender"].map({True: "contenders", False: "the others"})
    seats = rows["seats"].map(lambda s: f"{s} seat" + ("s" if s > 1 else ""))
    parts = [
        rows.groupby([seats.rename("group"), who.rename("candidates")], sort=True).apply(_agg),
        rows.groupby([rows["stage"].astype(str).rename("group"), who.rename("candidates")]).apply(_agg),
        rows.groupby([pd.Series("all", index=rows.index, name="group"), who.rename("candidates")]).apply(
            _agg
        ),
    ]
    by = pd.concat(parts)
    display = [
        [
            str(g),
            str(c),
            f"{int(r.intervals)}",
            f"{r.coverage:.3f}",
            f"{r.pit_low:.3f}",
            f"{r.pit_high:.3f}",
            f"{100 * r.width:.2f}",
        ]
        for (g, c), r in by.iterrows()
    ]
    worst = (
        rows[rows["contender"]]
        .groupby("contest")["covered"]
        .agg(["mean", "size"])
        .sort_values(["mean", "size"], ascending=[True, False])
        .head(8)
    )
    return {
        "contenders": {
            "columns": [
                "contests with 3+ candidates",
                "candidates",
                "intervals",
                "coverage",
                "PIT < 0.05",
                "PIT > 0.95",
                "width (pts)",
            ],
            "display": display,
        },
        "contenders_worst": {
            "columns": ["contest", "contenders' intervals", "coverage"],
            "display": [[str(c), str(int(r["size"])), f"{r['mean']:.2f}"] for c, r in worst.iterrows()],
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--processes", type=int, default=2, help="worker processes for the ballot replay")
    ap.add_argument("--out", type=Path, default=REPO / "docs")
    args = ap.parse_args(argv)
    rows, _ = ballot_rows(args.processes)
    made = tables(rows)
    for name, table in made.items():
        print(name)
        for row in table["display"]:
            print("  ", " | ".join(row))
    missing = update_page(args.out / "calibration.md", made)
    if missing:
        print(f"docs/calibration.md has no marker for {missing}; those tables were not written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
