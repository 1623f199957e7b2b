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
[--format text|json] (``--format json`` prints both tables as JSON records, for other programs).
"""

from __future__ import annotations

import argparse
import json
import math
import warnings

import pandas as pd

import racecast

SIDES = {"Karen Bass": "progressive", "Rick Caruso": "centrist"}


def quiet_forecast(count: racecast.Count, **kwargs) -> racecast.Forecast:
    with warnings.catch_warnings():
        # provisional ballots are outstanding but never counted (announced once below); the releases
        # with no new countywide figures reuse an earlier, stale outstanding estimate (see their notes)
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


def replay_scores(count: racecast.Count, **kwargs) -> tuple[pd.Series, float, float]:
    """P(Bass) after each release with a forecast, Brier score and log loss of the eventual winner."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        rp = racecast.replay(count, progress=False, **kwargs)
    score = rp.score()
    p = rp.table["win_probability"]["Karen Bass"].dropna()
    return p, float(score.brier), float(score.log_loss)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["nuts", "fast"], default="fast")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--format", choices=["text", "json"], default="text", help="how to print the tables")
    args = parser.parse_args(argv)
    settings = {"engine": args.engine, "draws": args.draws}

    primary = racecast.read_count(racecast.example_path("la_mayor_2022_primary"))
    general = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    prior = racecast.prior_from(primary, sides=SIDES)
    night = general[:3]
    night_rows = [
        election_night_row(label, night, p, seed=args.seed, **settings)
        for label, p in (("no prior", None), ("prior from primary", prior))
    ]
    runs = [
        ("no prior", None),
        (f"prior, inflation {prior.inflation:g} (default)", prior),
        ("prior, inflation 0.1", racecast.prior_from(primary, sides=SIDES, inflation=0.1)),
        ("prior, inflation 0.5", racecast.prior_from(primary, sides=SIDES, inflation=0.5)),
        ("prior, late_mail only", racecast.prior_from(primary, sides=SIDES, types=["late_mail"])),
    ]
    replay_rows = []
    for label, p in runs:
        probs, brier, log_loss = replay_scores(general, seed=args.seed, prior=p, **settings)
        replay_rows.append(
            {
                "run": label,
                **{f"p_bass_r{r}": float(v) for r, v in probs.items()},
                "brier": brier,
                "log_loss": log_loss,
            }
        )
    if args.format == "json":
        print(json.dumps({"election_night": night_rows, "replay": replay_rows}, indent=1))
        return
    print_primary(prior)
    print_election_night(general, night, night_rows)
    print("Replay of the whole November count (one forecast per release with an outstanding estimate):")
    out = pd.DataFrame(replay_rows).set_index("run")
    out.index.name = None
    out.columns = [
        c.replace("p_bass_r", "P(Bass) r").replace("_", " ").replace("brier", "Brier") for c in out.columns
    ]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(out.round(3).to_string())
    print(
        "(computed with racecast.replay; Brier in [0, 2], log loss in nats; lower is better. The sensitivity "
        "rows are reported as they came out, not chosen.)"
    )


def election_night_row(label: str, night: racecast.Count, prior: racecast.Prior | None, **kwargs) -> dict:
    """P(Bass), her final share and late mail's lean on election night, with or without the prior."""
    fc = quiet_forecast(night, prior=prior, **kwargs)
    s = fc.final_share.loc["Karen Bass"]
    mean, sd = late_mail_lean(fc)
    return {
        "run": label,
        "p_bass": float(fc.win_probability["Karen Bass"]),
        **{f"share_{q}": float(s[q]) for q in ("median", "lower", "upper")},
        "late_mail_lean": mean,
        "late_mail_lean_sd": sd,
    }


def print_primary(prior: racecast.Prior) -> None:
    h = prior.history[0]["votes"]
    print("June primary (Bass and Caruso only):")
    for t, v in h.items():
        lo = math.log(v["progressive"] / v["centrist"])
        print(f"  {t:<12} Bass {v['progressive']:>8,}  Caruso {v['centrist']:>8,}  log-odds {lo:+.3f}")
    print("  (late_mail = certified minus semi-official: every ballot counted after election night)\n")
    print(prior, "\n")


def print_election_night(general: racecast.Count, night: racecast.Count, rows: list[dict]) -> None:
    print(
        f"November election night: {night.release_ids[-1]} releases, Bass {night.totals['Karen Bass']:,}, "
        f"Caruso {night.totals['Rick Caruso']:,}; late mail not counted yet."
    )
    header = f"{'':<22}  {'P(Bass)':>7}  {'Bass final share (90%)':<24}  late-mail lean (log-odds, sd)"
    print(header)
    print("-" * len(header))
    for r in rows:
        median, lower, upper = (100 * r[f"share_{q}"] for q in ("median", "lower", "upper"))
        print(
            f"{r['run']:<22}  {r['p_bass']:>7.3f}  {median:4.1f}% [{lower:4.1f}%, {upper:4.1f}%]     "
            f"{r['late_mail_lean']:+.3f} ({r['late_mail_lean_sd']:.3f})"
        )
    late = general.votes[-1] - general.votes[2]
    print(
        f"What November's late mail did (releases 4-16, to the certified result): log-odds "
        f"{math.log(late[0] / late[1]):+.3f}; Bass finished with 54.83% (certified)."
    )
    print(
        "Provisional ballots are outstanding but never counted here; the primary has no provisional "
        "type, so they keep the default hierarchy.\n"
    )


if __name__ == "__main__":
    main()
