"""Backtest racecast against naive baselines on real counts, and publish the record.

Replays, release by release, the 2020 presidential count of the six battleground
states in the New York Times results feed (Alaska, Arizona, Georgia, Nevada,
North Carolina, Pennsylvania) and the 2022 Los Angeles mayoral count bundled with
racecast; scores racecast and each baseline of `racecast.baselines` with
`racecast.scoring`; and writes ``docs/backtest.md`` plus two LA plots
(``docs/la_2022_replay.png``, ``docs/la_2022_forecast.png``).

The NYT data is third-party (alex/nyt-2020-election-scraper, MIT licence) and is
read in place, never copied into this repository.  By default it is looked for
at ``../shared/data/nyt2020/battleground-state-changes.csv`` relative to the
repository root; pass another path as the first argument.  If it is absent the
script says where to get it and replays only the LA count.

Run it as ``python examples/backtest_nyt2020.py [path/to/battleground-state-changes.csv] [--out docs]``.
It takes a minute or two on a laptop (about 1,000 forecasts, fast engine).
"""

# ruff: noqa: E501 - the report is markdown: a table row or a call note is one line however long

from __future__ import annotations

import csv
import io
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd

import racecast
from racecast import baselines

REPO = Path(__file__).resolve().parents[1]
DEFAULT_NYT = REPO.parent / "shared" / "data" / "nyt2020" / "battleground-state-changes.csv"
WHERE_TO_GET = (
    "The NYT 2020 feed is not bundled (third-party data). Get battleground-state-changes.csv from "
    "https://github.com/alex/nyt-2020-election-scraper (MIT licence) and put it at "
    f"{DEFAULT_NYT} or pass its path as the first argument."
)
STATES = ("Alaska", "Arizona", "Georgia", "Nevada", "North Carolina", "Pennsylvania")
SEED = 2020
FORECASTERS = ("racecast", *baselines.BASELINES)

# AP race calls (UTC).  Sources and uncertainty are written into docs/backtest.md (CALL_NOTES).
AP_CALLS = {
    "Alaska": pd.Timestamp("2020-11-11T19:42Z"),  # AP story published 10:42 AKST; call at or before
    "Arizona": pd.Timestamp("2020-11-04T07:51Z"),  # 2:51 a.m. ET, before the first update in the feed
    "Georgia": pd.Timestamp("2020-11-20T00:45Z"),  # ~7:45 p.m. ET Nov 19, after the hand tally (+/- 30 min)
    "Nevada": pd.Timestamp("2020-11-07T17:13Z"),  # 12:13 p.m. ET
    "North Carolina": pd.Timestamp("2020-11-13T20:48Z"),  # 3:48 p.m. ET
    "Pennsylvania": pd.Timestamp("2020-11-07T16:25Z"),  # 11:25 a.m. ET
    "Los Angeles mayor 2022": pd.Timestamp("2022-11-16T23:35Z"),  # ~3:35 p.m. PT (source note in the count)
}
CALL_NOTES = """\
| Contest | AP call used (UTC) | Source | Certainty |
|---|---|---|---|
| Pennsylvania | 2020-11-07 16:25 | AP: "11:25 a.m. EST on Saturday, November 7" (AP via clickondetroit.com, foxcarolina.com "Explainer: why AP called Pennsylvania") | exact |
| Nevada | 2020-11-07 17:13 | "At 12:13 p.m., the AP declared that Biden had won Nevada" (ashepostandtimes.com, from AP) | exact to the minute as reported |
| Arizona | 2020-11-04 07:51 | "The Associated Press called the race ... at 2:51 a.m. ET" (thehill.com, nationalreview.com) | exact; it precedes the first update in the feed (13:28 UTC), so no forecaster can beat it here. The other major outlets (NYT, CNN, NBC, ABC, CBS) called Arizona only on the evening of Nov 12 ET (nymag.com, abc.net.au live blog) |
| North Carolina | 2020-11-13 20:48 | "As of 3:48 p.m. on Friday, Nov. 13, AP is calling ... North Carolina" (AP via clickondetroit.com) | exact to the minute as reported; AP waited for the Nov 12 mail deadline and county certification |
| Alaska | 2020-11-11 19:42 | AP story "Trump wins Alaska" published 10:42 a.m. AKST Nov 11 (alaskasnewssource.com) | the call was made at or shortly before this time |
| Georgia | 2020-11-20 00:45 | AP called Georgia on the evening of Nov 19 ET, about 30 minutes after the hand-tally audit results (wabe.org); Newser's AP-based story is stamped 6:50 p.m. CST, clickondetroit.com's "as of 8:00 p.m." | about +/- 30 minutes. AP does not call races headed for a recount, so this is a policy time, not a statistical one; NBC, ABC, CBS and CNN called Georgia on Nov 13 |
| Los Angeles mayor 2022 | 2022-11-16 23:35 | the count's own source note for release 9 ("AP called the race about 15:35", squirge.com) | about the minute |
"""


# --------------------------------------------------------------------------- data
def load_state(path: str | Path, state: str) -> racecast.Count:
    """One state's count from the NYT feed.

    Uses ``racecast.read_nyt2020`` when this racecast has it; otherwise a private
    reader that follows the same documented conventions: releases in time order
    (the feed is newest first), candidates from the leading/trailing columns,
    one batch type ``mixed``, ``outstanding_mixed`` = the Times' ``votes_remaining``
    (all presidential votes left, third parties included), a negative
    ``votes_remaining`` (the count passed the Times' turnout estimate) read as 0
    with the published value kept in ``note``.  Updates that add no votes are kept.
    """
    reader = getattr(racecast, "read_nyt2020", None) or getattr(racecast.io, "read_nyt2020", None)
    if reader is not None:
        return reader(path, state=state)
    return _read_nyt2020_private(Path(path), state)


def _read_nyt2020_private(path: Path, state: str) -> racecast.Count:
    with path.open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["state"].split(" (")[0].lower() == state.lower()]
    if not rows:
        raise racecast.CountFormatError(f"no rows for state {state!r}", source=str(path), column="state")
    rows.reverse()  # newest first in the feed
    cands: list[str] = []
    for r in rows:
        for c in (r["leading_candidate_name"], r["trailing_candidate_name"]):
            if c not in cands:
                cands.append(c)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["release", "released_at", "batch_type", *cands, "outstanding_mixed", "note"])
    for i, r in enumerate(rows, start=1):
        votes = {
            r["leading_candidate_name"]: r["leading_candidate_votes"],
            r["trailing_candidate_name"]: r["trailing_candidate_votes"],
        }
        rem = int(r["votes_remaining"])
        note = f"votes_remaining published as {rem}; read as 0" if rem < 0 else ""
        ts = pd.Timestamp(r["timestamp"]).tz_localize("UTC").isoformat()
        w.writerow([i, ts, "mixed", *(votes[c] for c in cands), max(rem, 0), note])
    out.seek(0)
    return racecast.read_count(out, name=f"{path.name}:{state}")


def load_contests(nyt_path: Path | None) -> dict[str, tuple[racecast.Count, Counter]]:
    """Every contest to replay, with the warnings its reader raised (by class)."""
    contests: dict[str, tuple[racecast.Count, Counter]] = {}
    if nyt_path is not None:
        for st in STATES:
            with warnings.catch_warnings(record=True) as got:
                warnings.simplefilter("always")
                count = load_state(nyt_path, st)
            contests[st] = (count, Counter(w.category.__name__ for w in got))
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        la = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    contests["Los Angeles mayor 2022"] = (la, Counter(w.category.__name__ for w in got))
    return contests


# --------------------------------------------------------------------------- replay and score
def run(
    contests: dict[str, tuple[racecast.Count, Counter]],
) -> tuple[pd.DataFrame, dict[str, racecast.Replay]]:
    rows = []
    replays: dict[str, racecast.Replay] = {}
    for name, (count, _) in contests.items():
        for fc in FORECASTERS:
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                # per-release warnings are kept in Replay.table["note"]; counted below
                warnings.simplefilter("ignore", racecast.RacecastWarning)
                rp = racecast.replay(count, forecaster=fc, seed=SEED, progress=None)
            secs = time.perf_counter() - t0
            s = rp.score()
            ap = AP_CALLS.get(name)
            rec = {"contest": name, "forecaster": fc, **s.to_dict(), "seconds": secs}
            for lvl in (95, 99):
                at = rp.called_at(lvl / 100)
                rec[f"called_at_{lvl}"] = at
                rec[f"hours_vs_ap_{lvl}"] = (
                    (at - ap).total_seconds() / 3600 if at is not None and ap is not None else np.nan
                )
            rec["n_releases"] = len(count)
            rec["n_adding_votes"] = int((count.increments.sum(axis=1) != 0).iloc[: len(count) - 1].sum())
            rec["no_forecast"] = len(rp.table) - s.n_forecasts
            rows.append(rec)
            replays[f"{name}|{fc}"] = rp
            print(
                f"{name:>24} {fc:>19}: Brier {s.brier:.3f}  log loss {s.log_loss:.3f}  coverage "
                f"{s.coverage:.2f}  wrong calls {s.confident_wrong_calls:3d}  ({secs:.1f}s)",
                flush=True,
            )
    return pd.DataFrame(rows), replays


# --------------------------------------------------------------------------- report
def _fmt_hours(h: float) -> str:
    if not np.isfinite(h):
        return "never"
    sign = "+" if h >= 0 else "\u2212"
    return f"{sign}{abs(h):.1f} h"


def _fmt_time(t) -> str:
    return (
        "never"
        if t is None or (isinstance(t, float) and np.isnan(t))
        else pd.Timestamp(t).strftime("%b %d %H:%M")
    )


def write_report(res: pd.DataFrame, contests, replays, out: Path, nyt_path: Path | None) -> None:
    nyt = res[res["contest"].isin(STATES)]
    lines = [
        "# Backtest: racecast against naive baselines on real counts",
        "",
        (
            "Generated by `examples/backtest_nyt2020.py` (seed "
            f"{SEED}, racecast {racecast.__version__}, fast engine, 2000 draws, 90% intervals). "
            "Every number below comes from replaying each count release by release with `racecast.replay`: "
            "the forecast after release *k* sees only releases 1..*k* and the outstanding estimates published "
            "by then, and is scored against the last release of the count. Nothing was tuned on these counts."
        ),
        "",
        "## What is scored",
        "",
        (
            "- **Brier**: multi-candidate Brier score, the sum over candidates of (p − 1[winner])², averaged over "
            "releases; 0 is perfect, 2 is certain and wrong. With two candidates it is twice the binary Brier."
        ),
        (
            "- **Log loss**: −ln P(winner), averaged over releases, with P clipped below at 0.001 "
            "(one certain-and-wrong forecast costs 6.9)."
        ),
        (
            "- **Coverage**: share of the 90% final-share intervals (every release × candidate) that hold the "
            "final share; it should be near 0.90. **Width**: mean interval width in share points."
        ),
        "- **Wrong calls**: releases at which a candidate who lost had P(win) ≥ 0.95.",
        (
            "- **Called (95%/99%)**: the first release from which P(eventual winner) stayed ≥ 0.95 (0.99) to the "
            "end; **vs AP**: hours after (+) or before (−) the AP's call."
        ),
        (
            "- Baselines (`racecast.baselines`): *leader_wins* (the current leader wins, P = 1), *counted_split* "
            "(remaining votes split like all counted votes), *last_release_split* (split like the last batch). "
            "Their intervals are plain binomial intervals, which treat the remaining votes as independent coin "
            "flips around a known split and are therefore far too narrow by construction."
        ),
        "",
    ]
    if nyt_path is None:
        lines += [f"**The NYT 2020 data was not found, so only Los Angeles is scored.** {WHERE_TO_GET}", ""]
    else:
        lines += [
            "## Data",
            "",
            (
                f"- NYT 2020: `{nyt_path.name}` from github.com/alex/nyt-2020-election-scraper (MIT), read in "
                "place, not part of racecast. Each update of the Times' results feed is a release; there is no "
                "batch type (every release is `mixed`), and the outstanding amount is the Times' own "
                "`votes_remaining` estimate of all presidential votes left, third parties included (it "
                "overstated the two candidates' remaining votes by 1-4% in most states and by about 20% early "
                "in North Carolina; see finding 5), read as 0 where the feed published a negative value (the count "
                "had passed the Times' turnout estimate). Updates that added no votes are kept as "
                "releases and scored like any other (a reader of the feed saw them); the table gives how many "
                "added votes. The last update of each state is taken as its final result (Georgia's includes "
                "the recount)."
            ),
        ]
    lines += [
        (
            "- Los Angeles 2022 mayor: the count bundled with racecast (`racecast.example_path"
            '("la_mayor_2022_general")`, sources per row). Its last row is the certified result (509,944 '
            "to 420,030); it is the truth scored against. Releases 1-2 have no outstanding estimate yet, so "
            "no forecast is made for them (racecast and baselines alike)."
        ),
        "",
        "## Results by contest",
        "",
    ]
    for name in res["contest"].unique():
        sub = res[res["contest"] == name]
        count, warned = contests[name]
        r0 = sub.iloc[0]
        final = count.totals
        margin = 100 * (final.max() - final.nlargest(2).iloc[-1]) / final.sum()
        lines += [
            f"### {name}",
            "",
            f"{len(count)} releases ({int(r0['n_adding_votes'])} of the {len(count) - 1} forecast releases "
            f"added votes; {int(r0['no_forecast'])} without a forecast), winner **{r0['winner']}** by "
            f"{margin:.2f} points of the two-candidate vote; AP call {_fmt_time(AP_CALLS.get(name))} UTC."
            + (f" Reader warnings: {dict(warned)}." if warned else ""),
            "",
            "| forecaster | Brier | log loss | coverage | width (pts) | wrong calls | called 95% | vs AP | called 99% | vs AP |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for _, r in sub.iterrows():
            lines.append(
                f"| {r['forecaster']} | {r['brier']:.3f} | {r['log_loss']:.3f} | {r['coverage']:.2f} | "
                f"{100 * r['interval_width']:.2f} | {int(r['confident_wrong_calls'])} | "
                f"{_fmt_time(r['called_at_95'])} | {_fmt_hours(r['hours_vs_ap_95'])} | "
                f"{_fmt_time(r['called_at_99'])} | {_fmt_hours(r['hours_vs_ap_99'])} |"
            )
        lines.append("")
    if len(nyt):
        agg = nyt.groupby("forecaster", sort=False).agg(
            brier=("brier", "mean"),
            log_loss=("log_loss", "mean"),
            coverage=("coverage", "mean"),
            width=("interval_width", "mean"),
            wrong_calls=("confident_wrong_calls", "sum"),
            states_wrong=("confident_wrong_calls", lambda s: int((s > 0).sum())),
            median_hours_95=("hours_vs_ap_95", "median"),
            never_called_95=("hours_vs_ap_95", lambda s: int(s.isna().sum())),
        )
        pooled = {}
        for fc in FORECASTERS:
            briers, losses = [], []
            for st in STATES:
                rp = replays[f"{st}|{fc}"]
                t = rp.table.loc[rp.forecast_rows]
                briers.append(racecast.scoring.brier_score(t["win_probability"], rp.winner, average=False))
                losses.append(racecast.scoring.log_loss(t["win_probability"], rp.winner, average=False))
            pooled[fc] = (float(pd.concat(briers).mean()), float(pd.concat(losses).mean()))
        lines += [
            "## Overall, six NYT 2020 states",
            "",
            (
                "Means over the six states (each state weighs the same; Pennsylvania alone has 335 forecast "
                "releases and Alaska 25), and pooled over all 781 forecast releases in the last two columns. "
                "Wrong calls are summed (in how many states). The median of hours vs AP is over the six states; "
                "it mixes safe states (Alaska, North Carolina: everyone 'calls' at the first update, days before "
                "the AP, which waited for ballots to be counted) with Arizona, whose AP call precedes the feed."
            ),
            "",
            "| forecaster | Brier | log loss | coverage | width (pts) | wrong calls (states) | median vs AP, 95% | never called 95% | pooled Brier | pooled log loss |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for fc, r in agg.iterrows():
            lines.append(
                f"| {fc} | {r['brier']:.3f} | {r['log_loss']:.3f} | {r['coverage']:.2f} | {100 * r['width']:.2f} | "
                f"{int(r['wrong_calls'])} ({int(r['states_wrong'])}) | {_fmt_hours(r['median_hours_95'])} | "
                f"{int(r['never_called_95'])} | {pooled[fc][0]:.3f} | {pooled[fc][1]:.3f} |"
            )
        lines.append("")
    lines += ["## Call times used", "", CALL_NOTES, ""]
    lines += ["## racecast's confident wrong calls", ""]
    lines += _wrong_call_table(contests, replays)
    lines += ["## Findings", "", FINDINGS, ""]
    lines += [
        "## Los Angeles 2022, pictured",
        "",
        "![LA 2022 replay](la_2022_replay.png)",
        "",
        (
            "Win probability after each release (top) and the running lead in votes (bottom); dotted lines "
            "mark lead changes, the dash-dotted line the AP call."
        ),
        "",
        "![LA 2022 forecast after release 4](la_2022_forecast.png)",
        "",
        (
            "The forecast after release 4 (Nov 10, Caruso ahead by 2,695 votes): final-share intervals next to "
            "the counted shares, and the simulated final margin."
        ),
        "",
    ]
    out.write_text("\n".join(lines), encoding="utf-8")


def _wrong_call_table(contests, replays) -> list[str]:
    out = [
        (
            "Every release at which racecast gave a candidate who lost P(win) >= 0.95, with what it saw then "
            "(remaining = the outstanding estimate in the count's unit)."
        ),
        "",
        "| contest | release | time (UTC) | counted leader | lead | loser | P(loser wins) | 90% interval of the winner's share | final share | remaining |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    n = 0
    for name, (count, _) in contests.items():
        rp = replays[f"{name}|racecast"]
        t = rp.table.loc[rp.forecast_rows]
        w = rp.winner
        final = racecast.scoring.final_shares(rp.final_votes)
        for k in racecast.scoring.confident_wrong_calls(t["win_probability"], w):
            p = t.loc[k, "win_probability"].drop(w)
            loser = str(p.idxmax())
            rem = count[: int(np.flatnonzero(count.release_ids == k)[0]) + 1].latest_outstanding()
            out.append(
                f"| {name} | {k} | {_fmt_time(t.loc[k, 'released_at'])} | {t.loc[k, 'leader']} | "
                f"{int(t.loc[k, 'lead']):,} | {loser} | {p[loser]:.3f} | "
                f"{100 * t.loc[k, ('final_share_lower', w)]:.2f}-"
                f"{100 * t.loc[k, ('final_share_upper', w)]:.2f}% | "
                f"{100 * final[w]:.2f}% | {sum(v for v, _ in rem.values()):,.0f} |"
            )
            n += 1
    if n == 0:
        out.append("| (none) | | | | | | | | | |")
    return [*out, ""]


FINDINGS = """\
**Since the findings below were written** (racecast 0.1, every simulation term off: mean coverage
0.73, 4 confident wrong calls, pooled Brier 0.178), the defaults have been learned from completed
counts (docs/model.md): a lumped remainder may lean differently from what was counted, counted
votes may be revised, and what is left of a lumped type counted in one batch only (each state's
first update) is drawn like a kind of ballots not seen yet. In the tables above there is no
confident wrong call left: cause 2a's two (Georgia and Pennsylvania at the first update, 0.97 and
0.99 for Trump) are now 0.81 and 0.87, wrong but not confident. North Carolina's coverage is 0.74
(was 0.23), Georgia's 0.79 (0.55); Arizona's wrong calls at releases 17-18 are gone (cause 2b below
remains in the model; the wider lumped remainder now covers it), and its 95% call comes on Nov 11 at
02:17 UTC, a day later than before. Pennsylvania's 95% call for Biden comes on Nov 5 at 20:48 UTC
(six hours later than before, still about 44 hours before the AP) and Georgia's on Nov 6 at 00:01
UTC. The rest of this section is the analysis of the 0.1 run; its numbers are those of that run,
not of the tables above (the tables are
regenerated by the script, this text is not: check it against them after a model change).

**1. racecast beats every baseline on probability scores, because the baselines cannot see a lead
change coming.** Pennsylvania and Georgia were the two states where the early leader (Trump) lost:
there *leader_wins* and *counted_split* were certain of the wrong winner for 124 and 88 releases, and
*last_release_split* was wrong with certainty whenever a Trump-leaning batch came last. racecast made
its 95% call for Biden in Pennsylvania on Nov 5 at 14:36 UTC (Trump still ahead by 135,702 votes),
about two days before the AP, and in Georgia on Nov 5 at 22:01 UTC, before Biden took the lead on
Nov 6. In the four states where the early leader held on, the naive forecasters score a perfect 0 and
racecast cannot beat them; averaged over the six states racecast's Brier score is 0.145 against 0.254
for the best baseline, and pooled over all releases 0.178 against 0.455.

**2. racecast's confident wrong calls have two causes, both visible in the table above.**
(a) *No batch types in the feed.* At the first update of Pennsylvania and of Georgia the count held one
huge batch (the election-night count) and nothing else; with a single `mixed` type the model can only
assume that the remaining ballots lean like the counted ones, and gave Trump over 95%. The remaining
votes went about 72% for Biden in both states (mostly mail ballots). racecast is built on batch types
(on the LA count a type not yet counted is flagged and widened, see `UnseenBatchTypeWarning`); the
feed does not have them. Labelling the feed's updates by kind (mail, election day, provisional) or by
county -- the feed's `counties_partition` column says which counties reported in each update -- is
the fix, not a different prior.
(b) *Every batch weighs about the same in a type's lean.* In Arizona on Nov 6 around 00:50 UTC
(releases 17-18) racecast gave Trump 96% while Biden led by about 58,000 votes with 446,000 to count.
Most updates since the last Maricopa drops had been small rural-county ones (Navajo, Mohave,
Yavapai, ... by the feed's `counties_partition`: 19-27% Biden, a few hundred to 7,300 votes), while
the big Maricopa batches ran about 41% Biden. Because the batch-to-batch variation is
large (`sigma_batch` about 0.37 on the score scale), the model's type lean is close to the
*unweighted* mean of the batches' log-ratios (36% Biden; weighted by votes it would be 51%), and the
model expected the remaining votes to go about 37% Biden; they went about 44% Biden. The drift term is
not the cause: with the drift prior set to nearly zero the probabilities at releases 16-18 move by
under 0.01 (checked once, to write this explanation; no number in this page uses it). Fixes: let a
batch's extra variance shrink with its size, or model where the remaining votes are (county).

**3. Interval coverage is close to 90% in five contests and fails in two, where the intervals became
far too narrow at the end.** racecast's 90% intervals held the final share in 88-91% of the
(release, candidate) pairs in Pennsylvania, Arizona, Nevada and Alaska and in all of LA, against 0-32%
for the binomial intervals (narrower than 0.15 points everywhere). In North Carolina (coverage 0.23)
the final Trump share lay *above* every interval that missed it (releases 10-63; median width 0.05
points): the post-election mail batches counted first leaned Biden, the single `mixed` type told the
model the rest would too, and the county canvass updates of Nov 13 did not (release 41: 3,687 Trump
to 2,017 Biden). In Georgia (0.55) the misses cluster on Nov 4-5 (the remaining vote leaned Biden more
than expected, as in 2a) and from Nov 7 on, when the intervals were 0.02 points wide and the
hand-tally audit and machine recount then revised counted votes (13 releases lower some candidate's
votes; Biden's lead went from 14,112 on Nov 11 to 11,779 in the final row). The model's uncertainty is
about the ballots still to count, one lean per type; it has no term for revisions of counted votes,
and with one type it cannot know that the last ballots are of another kind. Fixes: batch types (an
uncounted provisional or canvass type is widened by `sigma_type`), and a floor on the final-share
uncertainty learned from the size of past corrections (the count keeps them: `Count.corrections`).

**4. Time to call.** In the close states racecast reached 95% well before the AP in Pennsylvania
(about 50 hours) and Georgia (the AP waited for the audit: a policy, not a statistical, call), within
minutes of it in Nevada, and in Arizona only on Nov 10 at 02:18 UTC (the evening of Nov 9 ET) --
six days after the AP's early call, but about three days before the other major outlets (Nov 12
evening ET). Calls 'before the AP' in the safe states (Alaska, North Carolina) only say that the AP
waits for ballots to be counted; they show no skill. A 95% call is allowed to be wrong one time in
twenty; the AP's standard is stricter.

**5. The Times' remaining-vote estimates were good in 2020 and cause none of the failures above.**
They overstated the two candidates' remaining votes by 1-4% at the first update in Arizona,
Pennsylvania and Nevada (third-party votes are included) and by about 20% in North Carolina; in
Georgia they ran a few thousand short at the end (ballots found in the audit).
"""


def save_la_plots(replays: dict[str, racecast.Replay], docs: Path) -> None:
    import matplotlib.pyplot as plt

    rp = replays["Los Angeles mayor 2022|racecast"]
    fig = rp.plot(
        events={"AP call": AP_CALLS["Los Angeles mayor 2022"]},
        title="Los Angeles mayor 2022: who wins, after each release (racecast)",
        timezone="America/Los_Angeles",
    )
    fig.savefig(docs / "la_2022_replay.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    fc = rp.forecasts[3]  # after release 4
    fig = fc.plot(title="Los Angeles mayor 2022: forecast after release 4 (Nov 10, Caruso ahead by 2,695)")
    fig.savefig(docs / "la_2022_forecast.png", dpi=120, bbox_inches="tight")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("nyt", nargs="?", type=Path, default=DEFAULT_NYT, help="battleground-state-changes.csv")
    ap.add_argument(
        "--out", type=Path, default=REPO / "docs", help="where to write backtest.md and the plots"
    )
    args = ap.parse_args(argv)
    nyt_path: Path | None = args.nyt
    if not nyt_path.is_file():
        print(
            f"NYT data not found at {nyt_path}.\n{WHERE_TO_GET}\nReplaying only the LA count.",
            file=sys.stderr,
        )
        nyt_path = None
    contests = load_contests(nyt_path)
    res, replays = run(contests)
    docs = args.out
    docs.mkdir(parents=True, exist_ok=True)
    save_la_plots(replays, docs)
    report = docs / "backtest.md"
    write_report(res, contests, replays, report, nyt_path)
    res.drop(columns="seconds").to_csv(docs / "backtest_results.csv", index=False)  # reproducible
    print(f"wrote {report}, {docs / 'backtest_results.csv'} and the LA plots")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
