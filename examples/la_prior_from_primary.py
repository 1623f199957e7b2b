"""Los Angeles mayor 2022: election night of the general, with and without a prior
learned from the June primary.

In the June primary, the ballots counted after election night leaned far more to
Karen Bass than the election-night count; on November's election night the
question was whether late mail would do the same.  This script learns the
primary's lean of each batch type with ``racecast.prior_from``, forecasts the
general's election night (``count[:3]``: after the semi-official release, before
any late mail) with and without it, and then replays the whole November count
with and without it and scores both (Brier score and log loss of the eventual
winner).

What the primary can teach is limited, and the script says so: the bundled
primary count has only two releases (semi-official and certified) with the two
finalists' totals only, so its ``late_mail`` "batch" is the certified total minus
the semi-official one (every ballot counted after election night), and its
``vote_center`` release is the whole election-night count (mail received before
election day *and* vote centres).  It says how late ballots leaned against
election-night ballots, once; nothing about batch-to-batch variation or drift.

Run:  python examples/la_prior_from_primary.py [--engine fast|nuts] [--seed N] [--draws N]
"""

from __future__ import annotations

import argparse
import math
import warnings

import numpy as np
import pandas as pd

import racecast

SIDES = {"Karen Bass": "progressive", "Rick Caruso": "centrist"}
LOG_LOSS_CLIP = 1e-3  # as racecast.scoring: a Monte Carlo probability cannot resolve less


def quiet_forecast(count: racecast.Count, **kwargs) -> racecast.Forecast:
    with warnings.catch_warnings():
        # provisional ballots are outstanding but never counted (announced once below); release 10's
        # outstanding estimate is stale by construction of the data (see its note)
        warnings.simplefilter("ignore", racecast.UnseenBatchTypeWarning)
        warnings.simplefilter("ignore", racecast.StaleOutstandingWarning)
        return racecast.forecast(count, **kwargs)


def late_mail_lean(fc: racecast.Forecast) -> tuple[float, float]:
    """Posterior mean and sd of late mail's log-odds Bass vs Caruso (type lean)."""
    i = fc.posterior_types.index("late_mail")
    a = fc.posterior.alpha[:, i, :]
    j, k = fc.candidates.index("Karen Bass"), fc.candidates.index("Rick Caruso")
    lo = a[:, j] - a[:, k]
    return float(lo.mean()), float(lo.std())


def replay_scores(count: racecast.Count, **kwargs) -> tuple[pd.Series, float, float, str]:
    """P(Bass) after each release, Brier score and log loss of the eventual winner.

    Uses racecast.replay when it is available; otherwise forecasts ``count[:k]``
    for every release that has an outstanding estimate, in a loop, and computes
    the scores directly with racecast.scoring's definitions (multi-candidate
    Brier; log loss in nats with the winner's probability clipped at 1e-3).
    """
    winner = str(count.totals.idxmax())
    if hasattr(racecast, "replay"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", racecast.RacecastWarning)
            rp = racecast.replay(count, progress=False, **kwargs)
        score = rp.score()
        p = rp.table["win_probability"]["Karen Bass"].dropna()
        return p, float(score.brier), float(score.log_loss), "racecast.replay"
    seed = kwargs.pop("seed")
    rows = {}
    for k in range(1, len(count)):
        sub = count[:k]
        if not sub.latest_outstanding():
            continue  # no outstanding estimate published yet: no forecast
        rows[int(sub.release_ids[-1])] = quiet_forecast(sub, seed=seed + k, **kwargs).win_probability
    wp = pd.DataFrame(rows).T
    truth = (wp.columns == winner).astype(float)
    brier = float(((wp - truth) ** 2).sum(axis=1).mean())
    log_loss = float((-np.log(np.maximum(wp[winner], LOG_LOSS_CLIP))).mean())
    return wp["Karen Bass"], brier, log_loss, "a loop over count[:k] (racecast.replay not available)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["nuts", "fast"], default="fast")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--draws", type=int, default=2000)
    args = parser.parse_args()
    settings = {"engine": args.engine, "draws": args.draws}

    primary = racecast.read_count(racecast.example_path("la_mayor_2022_primary"))
    general = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    prior = racecast.prior_from(primary, sides=SIDES)
    h = prior.history[0]["votes"]
    print("June primary (Bass and Caruso only):")
    for t, v in h.items():
        lo = math.log(v["progressive"] / v["centrist"])
        print(f"  {t:<12} Bass {v['progressive']:>8,}  Caruso {v['centrist']:>8,}  log-odds {lo:+.3f}")
    print("  (late_mail = certified minus semi-official: every ballot counted after election night)\n")
    print(prior, "\n")

    night = general[:3]
    print(
        f"November election night: {night.release_ids[-1]} releases, Bass {night.totals['Karen Bass']:,}, "
        f"Caruso {night.totals['Rick Caruso']:,}; late mail not counted yet."
    )
    header = f"{'':<22}  {'P(Bass)':>7}  {'Bass final share (90%)':<24}  late-mail lean (log-odds, sd)"
    print(header)
    print("-" * len(header))
    for label, p in (("no prior", None), ("prior from primary", prior)):
        fc = quiet_forecast(night, seed=args.seed, prior=p, **settings)
        s = fc.final_share.loc["Karen Bass"]
        m, sd = late_mail_lean(fc)
        print(
            f"{label:<22}  {fc.win_probability['Karen Bass']:>7.3f}  "
            f"{100 * s['median']:4.1f}% [{100 * s['lower']:4.1f}%, {100 * s['upper']:4.1f}%]     {m:+.3f} ({sd:.3f})"
        )
    late = general.votes[-1] - general.votes[2]
    print(
        f"What November's late mail did (releases 4-10; release 10 rounded): log-odds "
        f"{math.log(late[0] / late[1]):+.3f}; Bass finished near 54.8%."
    )
    print(
        "Provisional ballots are outstanding but never counted here; the primary has no provisional "
        "type, so they keep the default hierarchy.\n"
    )

    print("Replay of the whole November count (one forecast per release with an outstanding estimate):")
    runs = [
        ("no prior", None),
        (f"prior, inflation {prior.inflation:g} (default)", prior),
        ("prior, inflation 0.1", racecast.prior_from(primary, sides=SIDES, inflation=0.1)),
        ("prior, inflation 0.5", racecast.prior_from(primary, sides=SIDES, inflation=0.5)),
        ("prior, late_mail only", racecast.prior_from(primary, sides=SIDES, types=["late_mail"])),
    ]
    table = {}
    how = ""
    for label, p in runs:
        probs, brier, log_loss, how = replay_scores(general, seed=args.seed, prior=p, **settings)
        table[label] = {
            **{f"P(Bass) r{r}": v for r, v in probs.items()},
            "Brier": brier,
            "log loss": log_loss,
        }
    out = pd.DataFrame(table).T
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(out.round(3).to_string())
    print(
        f"(computed with {how}; Brier in [0, 2], log loss in nats; lower is better. The sensitivity rows are "
        "reported as they came out, not chosen.)"
    )


if __name__ == "__main__":
    main()
