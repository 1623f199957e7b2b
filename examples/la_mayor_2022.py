"""Los Angeles mayor 2022: forecast the count after every release.

Karen Bass led the first release (early mail), Rick Caruso led after the
vote-center ballots and was still 2,695 votes ahead after the Nov 10 release;
late mail then leaned hard to Bass and she won by almost ten points.  This script
replays the count as it was published and prints, after each release, what
racecast said at the time.

Run:  python examples/la_mayor_2022.py [--engine nuts|fast] [--seed N] [--plots DIR]
(``--plots docs`` saves the replay and the Nov 10 forecast as PNGs into docs/.)
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import racecast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["nuts", "fast"], default="nuts")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--plots", type=Path, default=None, help="folder to save the two PNGs into")
    args = parser.parse_args()

    count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    print(f"{count}\n")
    header = f"{'rel':>3}  {'released (PT)':<16}  {'type':<12}  {'Bass lead':>10}  {'P(Bass)':>7}  Bass final share, 90% interval"
    print(header)
    print("-" * len(header))
    for k in range(1, len(count) + 1):
        now = count[:k]
        lead = int(now.totals["Karen Bass"] - now.totals["Rick Caruso"])
        when = now.released_at.iloc[-1].tz_convert("America/Los_Angeles").strftime("%b %d %H:%M")
        prefix = f"{k:>3}  {when:<16}  {now.release_batch_types[-1]:<12}  {lead:>+10,}"
        if not now.latest_outstanding():
            print(f"{prefix}  {'-':>7}  no outstanding estimate published yet")
            continue
        with warnings.catch_warnings():
            # The not-yet-counted provisional ballots are announced once, below.
            warnings.simplefilter("ignore", racecast.UnseenBatchTypeWarning)
            fc = racecast.forecast(now, seed=args.seed, engine=args.engine)
        share = fc.final_share.loc["Karen Bass"]
        print(
            f"{prefix}  {fc.win_probability['Karen Bass']:>7.3f}  "
            f"{100 * share['median']:.1f}% [{100 * share['lower']:.1f}%, {100 * share['upper']:.1f}%]"
        )
    print(
        "\nProvisional ballots are outstanding throughout but were never counted in these releases: "
        "their lean comes from the spread of the other batch types."
    )
    print("Bass finished near 54.8% (certified). Release 10 holds rounded totals (see the data note).")
    if args.plots is not None:
        save_plots(count, args.plots, seed=args.seed, engine=args.engine)


def save_plots(count: racecast.Count, folder: Path, *, seed: int, engine: str) -> None:
    """The replay (P(win) per release over the running lead) and the Nov 10 forecast."""
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.UnseenBatchTypeWarning)
        rp = racecast.replay(count, seed=seed, engine=engine, progress=False)
        fc = racecast.forecast(count[:4], seed=seed, engine=engine)
    fig = rp.plot(title="Los Angeles mayor 2022: who wins, after each release (racecast)")
    fig.savefig(folder / "la_2022_replay.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    fig = fc.plot(title="Los Angeles mayor 2022: forecast after release 4 (Nov 10, Caruso ahead by 2,695)")
    fig.savefig(folder / "la_2022_forecast.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    print(f"plots saved in {folder}/la_2022_replay.png and {folder}/la_2022_forecast.png")


if __name__ == "__main__":
    main()
