"""Los Angeles mayor 2022: forecast the count after every release.

Karen Bass led the first release (early mail), Rick Caruso led after the
vote-center ballots and was still 2,695 votes ahead after the Nov 10 release;
late mail then leaned hard to Bass and she won by almost ten points.  This script
replays the count as it was published and prints, after each release, what
racecast said at the time.

Run:  python examples/la_mayor_2022.py [--engine nuts|fast] [--seed N] [--plots DIR] [--format text|json]
(``--plots docs`` saves the replay and the Nov 10 forecast as PNGs into docs/; ``--format json``
prints the table as JSON records, one per release, for other programs.)
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import pandas as pd

import racecast


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["nuts", "fast"], default="nuts")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--plots", type=Path, default=None, help="folder to save the two PNGs into")
    parser.add_argument("--format", choices=["text", "json"], default="text", help="how to print the table")
    args = parser.parse_args(argv)

    count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    rows = [release_row(count[:k], seed=args.seed, engine=args.engine) for k in range(1, len(count) + 1)]
    if args.format == "json":
        print(json.dumps(rows, indent=1))
    else:
        print_table(count, rows)
    if args.plots is not None:
        save_plots(count, args.plots, seed=args.seed, engine=args.engine)
        where = sys.stdout if args.format == "text" else sys.stderr
        print(
            f"plots saved in {args.plots}/la_2022_replay.png and {args.plots}/la_2022_forecast.png",
            file=where,
        )


def release_row(now: racecast.Count, *, seed: int, engine: str) -> dict:
    """What racecast said after the last release of ``now`` (no forecast before an outstanding estimate)."""
    row = {
        "release": len(now),
        "released_at": now.released_at.iloc[-1].tz_convert("America/Los_Angeles").isoformat(),
        "batch_type": now.release_batch_types[-1],
        "bass_lead": int(now.totals["Karen Bass"] - now.totals["Rick Caruso"]),
        "p_bass": None,
        "share_median": None,
        "share_lower": None,
        "share_upper": None,
    }
    if now.latest_outstanding():
        with warnings.catch_warnings(record=True) as caught:
            # The not-yet-counted provisional ballots and stale estimates are announced once, below.
            warnings.simplefilter("ignore", racecast.UnseenBatchTypeWarning)
            warnings.simplefilter("always", racecast.StaleOutstandingWarning)
            fc = racecast.forecast(now, seed=seed, engine=engine)
        for w in caught:
            if issubclass(w.category, racecast.StaleOutstandingWarning):
                row["stale"] = True
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        share = fc.final_share.loc["Karen Bass"]
        row["p_bass"] = float(fc.win_probability["Karen Bass"])
        row.update({f"share_{q}": float(share[q]) for q in ("median", "lower", "upper")})
    return row


def print_table(count: racecast.Count, rows: list[dict]) -> None:
    print(f"{count}\n")
    header = (
        f"{'rel':>3}  {'released (PT)':<16}  {'type':<12}  {'Bass lead':>10}  {'P(Bass)':>7}  "
        "Bass final share, 90% interval"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        when = f"{pd.Timestamp(row['released_at']):%b %d %H:%M}"
        prefix = f"{row['release']:>3}  {when:<16}  {row['batch_type']:<12}  {row['bass_lead']:>+10,}"
        if row["p_bass"] is None:
            print(f"{prefix}  {'-':>7}  no outstanding estimate published yet")
            continue
        median, lower, upper = (100 * row[f"share_{q}"] for q in ("median", "lower", "upper"))
        print(f"{prefix}  {row['p_bass']:>7.3f}  {median:.1f}% [{lower:.1f}%, {upper:.1f}%]")
    print(
        "\nProvisional ballots are outstanding throughout but were never counted in these releases: "
        "their lean comes from the spread of the other batch types."
    )
    stale = [str(row["release"]) for row in rows if row.get("stale")]
    if stale:
        print(
            f"At release(s) {', '.join(stale)} the latest published outstanding estimate was older than "
            "releases of its type: what was counted since is subtracted from it, and its uncertainty widened."
        )
    print("Bass finished with 54.83% of the two-candidate vote (certified, the last release).")


def save_plots(count: racecast.Count, folder: Path, *, seed: int, engine: str) -> None:
    """The replay (P(win) per release over the running lead) and the Nov 10 forecast."""
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.UnseenBatchTypeWarning)
        rp = racecast.replay(count, seed=seed, engine=engine, progress=False)
        fc = racecast.forecast(count[:4], seed=seed, engine=engine)
    fig = rp.plot(
        title="Los Angeles mayor 2022: who wins, after each release (racecast)",
        timezone="America/Los_Angeles",
    )
    fig.savefig(folder / "la_2022_replay.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    fig = fc.plot(title="Los Angeles mayor 2022: forecast after release 4 (Nov 10, Caruso ahead by 2,695)")
    fig.savefig(folder / "la_2022_forecast.png", dpi=120, bbox_inches="tight")
    plt.close(fig)


if __name__ == "__main__":
    main()
