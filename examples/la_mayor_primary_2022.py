"""Los Angeles mayor, June 2022 primary, under the city's majority rule.

A candidate with more than 50% of the votes wins the primary outright;
otherwise the top two meet in a November runoff.  On election night (the
semi-official count of June 8, 2022, 2 a.m.) Rick Caruso led Karen Bass 42.1%
to 37.0% with about 400,000 county-wide mail ballots still to count.  The
certified result (July 1) had Bass first with 43.1% and Caruso second with
36.0%: a runoff between them, and a lead change.

What the data holds, and what it lacks
--------------------------------------
``racecast/data/la_mayor_2022_primary.csv`` has exact totals for Bass and
Caruso only, at two points: election night and the certified count.  The
primary had 12 candidates (nine campaigning, plus Joe Buscaino, Mike Feuer and
Ramit Varma, who withdrew after the ballots were printed).  A majority rule
needs the other ten: without them Bass + Caruso always make 100% and one of
them would "win outright".  This script therefore derives one pooled column,
``Other (10 candidates)``, from the published percentages:

* election night: Caruso 133,059 = 42.14% and Bass 116,688 = 36.95% of all
  votes (Patch / Our Weekly, June 8) give 315,777 votes in all (the two
  rounded percentages agree to within ~20 votes), so the ten others had
  about 66,030;
* certified: Bass 278,511 = 43.1% and Caruso 232,490 = 36.0% (Bloomberg /
  LA Times, July 1) give about 646,000 votes (to within ~600, the percentages
  having one decimal), so the others had about 135,000.

The pooled bloc counts in every share, but it is not a candidate: the rule
never lets it win or reach the runoff.  Kevin de León, third with 7.5% on
election night (23,665 votes), is inside it; with 30 points between him and
Bass his chance of a runoff place is nil, but this data cannot show it.

The intermediate updates (June 10, 14, ...) were reported only as
percentages, so the model sees a single batch, of type ``vote_center`` as the
file labels it, and nothing yet of the late mail: the lean of the outstanding
``late_mail`` ballots comes from the prior spread of batch types alone (a
warning says so).  Expect wide intervals: that is the honest answer from one
release.

Run:  python examples/la_mayor_primary_2022.py
"""

from __future__ import annotations

import io
import warnings

import pandas as pd

import racecast
from racecast.errors import UnseenBatchTypeWarning

OTHER = "Other (10 candidates)"
# Derived from the published percentages (see the module docstring).
ALL_VOTES = {
    2: round((133_059 / 0.4214 + 116_688 / 0.3695) / 2),
    6: round((278_511 / 0.431 + 232_490 / 0.360) / 2),
}


def primary_count() -> racecast.Count:
    """The bundled primary count with the derived "Other (10 candidates)" column."""
    path = racecast.example_path("la_mayor_2022_primary")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    named = table["Karen Bass"].astype(int) + table["Rick Caruso"].astype(int)
    other = [ALL_VOTES[int(r)] - n for r, n in zip(table["release"], named, strict=True)]
    table.insert(table.columns.get_loc("Rick Caruso") + 1, OTHER, [str(v) for v in other])
    buf = io.StringIO()
    table.to_csv(buf, index=False)
    buf.seek(0)
    return racecast.read_count(buf, name="LA mayor primary 2022 (+ derived Other)")


def main() -> None:
    count = primary_count()
    election_night = count[:1]
    print(election_night.releases[["batch_type", "Karen Bass", "Rick Caruso", OTHER]].to_string())
    print()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnseenBatchTypeWarning)
        fc = racecast.forecast(election_night, rule="majority", seed=2022, engine="fast", draws=4000)
    for w in caught:
        print(f"note: {w.message}")
    print()
    print(fc.summary())
    print()

    reach = fc.rule_result.probabilities("reach_runoff")
    print(f"P(runoff)                    {fc.rule_result.probability('runoff'):.3f}")
    print(f"P(someone wins outright)     {fc.win_probability.sum():.3f}")
    for name in ("Karen Bass", "Rick Caruso"):
        print(f"P({name} reaches the runoff) {reach[name]:.3f}")
    pairing = fc.rule_result.probabilities("runoff_pairing")
    print(f"most likely runoff           {pairing.index[0]} ({pairing.iloc[0]:.3f})")
    print(f"P(Caruso's lead does not hold for first place) {fc.lead_change_probability:.3f}")
    print()

    final = count.totals
    shares = final / final.sum()
    print("certified result (Other derived from the published percentages):")
    for name, share in shares.items():
        print(f"  {name:<24} {final[name]:>9,}  {100 * share:5.1f}%")
    top_two = shares.drop(OTHER).sort_values(ascending=False).index[:2]
    print(f"  -> runoff: {' vs '.join(top_two)}; {top_two[0]} first (a lead change from election night)")
    print(
        "caveat: only two releases are in the data and ten candidates are pooled, so this checks the rule's "
        "output, not the model's accuracy on the primary."
    )


if __name__ == "__main__":
    main()
