"""A two-thirds ballot measure counted over a week (SYNTHETIC data).

Everything here is made up, but shaped like a California local special tax,
which needs two-thirds of the Yes + No votes to pass: vote-by-mail ballots
that arrive early (older voters, cooler on new taxes) are counted first, vote
centre ballots on election night, and late-arriving mail (younger voters,
warmer to the measure) over the following week.  The "true" lean of each
batch type is fixed below, each batch gets its own random wobble around it,
and the votes are drawn from those leans with a fixed seed.  Nothing was
adjusted after seeing the forecast.

The forecast is made after the third release, with the late mail still to
count, under the threshold rule ``"threshold:2/3"`` (exactly two-thirds
passes: the "at least two-thirds" convention).

Run:  python examples/ballot_measure.py
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import racecast

#: Synthetic truth: Yes share of each batch type's votes, and the votes per release.
YES_SHARE = {"early_mail": 0.645, "vote_center": 0.665, "late_mail": 0.695}
RELEASES = [
    ("early_mail", 31_000),
    ("vote_center", 9_500),
    ("late_mail", 6_200),
    ("late_mail", 7_400),
    ("late_mail", 5_900),
    ("late_mail", 3_100),
]
BATCH_WOBBLE = 0.01  # sd of a batch's Yes share around its type's lean
AS_OF = 3  # forecast after this many releases


def synthetic_count(seed: int = 7) -> racecast.Count:
    """The whole synthetic count, with the outstanding late mail after each release."""
    rng = np.random.default_rng(seed)
    yes = no = 0
    rows = []
    late_total = sum(n for t, n in RELEASES if t == "late_mail")
    late_done = 0
    for r, (btype, n) in enumerate(RELEASES, start=1):
        p = np.clip(YES_SHARE[btype] + BATCH_WOBBLE * rng.standard_normal(), 0, 1)
        y = int(rng.binomial(n, p))
        yes, no = yes + y, no + n - y
        late_done += n if btype == "late_mail" else 0
        # the registrar's estimate of what is left is itself rounded and ~10% off
        left = round((late_total - late_done) * rng.normal(1.0, 0.1), -2)
        rows.append(
            {"release": r, "batch_type": btype, "Yes": yes, "No": no, "outstanding_late_mail": max(left, 0)}
        )
    table = pd.DataFrame(rows)
    tidy = table.melt(
        id_vars=["release", "batch_type"], value_vars=["Yes", "No"], var_name="candidate", value_name="votes"
    )
    tidy = tidy.sort_values(["release", "candidate"], ascending=[True, False], kind="stable")
    outstanding = table.set_index("release")[["outstanding_late_mail"]].rename(
        columns=lambda c: c.removeprefix("outstanding_")
    )
    return racecast.Count.from_frame(tidy, outstanding=outstanding, name="synthetic two-thirds measure")


def main() -> None:
    count = synthetic_count()
    print("SYNTHETIC DATA: a made-up two-thirds measure (see the docstring)")
    shown = count.releases[["batch_type", "Yes", "No"]].copy()
    shown["yes_share"] = (shown["Yes"] / (shown["Yes"] + shown["No"])).round(4)
    shown["outstanding_late_mail"] = count.outstanding["late_mail"].to_numpy()
    print(shown.to_string())
    print()

    fc = racecast.forecast(count[:AS_OF], rule="threshold:2/3", seed=11, engine="fast", draws=4000)
    print(fc.summary())
    yes_final = fc.final_share.loc["Yes"]
    print(
        f"\nP(pass) = {fc.win_probability['Yes']:.3f}; final Yes share {100 * yes_final['median']:.2f}% "
        f"[{100 * yes_final['lower']:.2f}%, {100 * yes_final['upper']:.2f}%] against a line of 66.67%"
    )

    truth = count.totals
    share = truth["Yes"] / truth.sum()
    verdict = "passes" if 3 * truth["Yes"] >= 2 * truth.sum() else "fails"
    print(
        f"synthetic final count: Yes {truth['Yes']:,} / No {truth['No']:,} = {100 * share:.2f}%: "
        f"the measure {verdict}"
    )


if __name__ == "__main__":
    main()
