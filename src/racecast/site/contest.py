"""The page of one contest: its candidates now, its charts release by release, and its messages."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..ballot_forecast import BallotForecast
from ..rules import resolve_rule
from .build import contest_slug, counted_outstanding, history, interval_of, local_time
from .charts import CHARTS, chart_spec, with_rows
from .pages import e, fmt_count, fmt_p, fmt_ps, fmt_share, page, status_badge

__all__ = ["contest_file", "contest_page"]


def _win_label(rule: str) -> str:
    try:
        return str(getattr(resolve_rule(rule), "win_label", "P(win)"))
    except ValueError:
        return "P(win)"


def _share(r: pd.Series) -> str:
    return fmt_share(r["final_share_median"], r["final_share_lower"], r["final_share_upper"])


def _candidates(fc: BallotForecast, contest: str, win_label: str, parties: tuple[str, ...]) -> str:
    t = fc.table.loc[contest]
    party = dict(zip(fc.ballot.candidates[contest], parties, strict=True))
    pct = round(100 * interval_of(fc))
    t = t.sort_values("votes", ascending=False)
    rows = "\n".join(
        f'<tr><th scope="row">{e(c)}{" <span class=lead>(leading)</span>" if r["leader"] else ""}</th>'
        f"<td>{e(party.get(str(c), ''))}</td>"
        f'<td class="num">{fmt_count(r["votes"])}</td>'
        f'<td class="num">{p}</td>'
        f'<td class="num">{_share(r)}</td></tr>'
        for (c, r), p in zip(t.iterrows(), fmt_ps(t["win_probability"]), strict=True)
    )
    k = int(fc.ballot.release_ids[-1])
    return f"""<div class="scroll" tabindex="0" role="region" aria-labelledby="cands-caption">
<table class="data">
<caption id="cands-caption">Candidates after release {k}, most votes first</caption>
<thead><tr><th scope="col">Candidate</th><th scope="col">Party</th><th scope="col">Votes counted</th>
<th scope="col">{e(win_label)}</th><th scope="col">Final share ({pct}% interval)</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</div>"""


def _figure(name: str, caption: str, spec: dict[str, Any]) -> str:
    data = json.dumps(spec, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    return f"""<figure class="chart-box">
<figcaption id="cap-{name}">{e(caption)}</figcaption>
<div class="chart" id="chart-{name}" data-spec="spec-{name}" role="img" aria-labelledby="cap-{name}"></div>
<script type="application/json" id="spec-{name}">{data}</script>
</figure>"""


def _pwin_table(hist: pd.DataFrame, win_label: str) -> str:
    cands = list(dict.fromkeys(hist["candidate"]))
    by_release: dict[str, dict[str, float]] = {}
    for label, cand, p in zip(hist["label"], hist["candidate"], hist["win_probability"], strict=True):
        by_release.setdefault(str(label), {})[str(cand)] = float(p)
    head = "".join(f'<th scope="col">{e(c)}</th>' for c in cands)
    body = "\n".join(
        f'<tr><th scope="row">{e(label)}</th>'
        + "".join(f'<td class="num">{fmt_p(ps.get(c, float("nan")))}</td>' for c in cands)
        + "</tr>"
        for label, ps in by_release.items()
    )
    return f"""<details><summary>{e(win_label)} after each release as a table</summary>
<div class="scroll" tabindex="0" role="region" aria-label="{e(win_label)} by release">
<table class="data"><caption>{e(win_label)} after each release forecast</caption>
<thead><tr><th scope="col">Release</th>{head}</tr></thead>
<tbody>
{body}
</tbody></table></div></details>"""


def _messages(fc: BallotForecast, contest: str, reason: str, note: str) -> str:
    row = fc.contests.loc[contest]
    items = [f"<li>Rule: {e(row['rule'])} ({e(reason)})</li>", f"<li>{e(row['message'])}</li>"]
    items += [f'<li class="warn">Warning: {e(w)}</li>' for w in row["warnings"] or ()]
    if isinstance(row["error"], str) and row["error"]:
        items.append(f'<li class="warn">Error: {e(row["error"])}</li>')
    if note:
        items.append(f'<li class="warn">Outstanding: {e(note)}</li>')
    return f'<h2 id="messages">Messages and warnings</h2>\n<ul class="messages">{"".join(items)}</ul>'


def contest_page(
    contest: str,
    forecasts: Mapping[int, BallotForecast],
    inner: Mapping[int, BallotForecast] | None,
    release_labels: Mapping[int, str],
    tz: dt.tzinfo,
    heading: str,
    reason: str,
) -> str:
    """The HTML of one contest's page (it lives in ``contests/``, one level below the index)."""
    fc = forecasts[max(forecasts)]
    row = fc.contests.loc[contest]
    win_label = _win_label(str(row["rule"]))
    hist = history(contest, forecasts, release_labels, inner)
    votes, note = counted_outstanding(fc.ballot, contest)
    pct = round(100 * interval_of(fc))
    inner_pct = round(100 * interval_of(inner[max(inner)])) if inner else None
    bands = f"{inner_pct}% and {pct}%" if inner_pct else f"{pct}%"
    captions = {**CHARTS, "fan": f"Final vote share: median and {bands} intervals after each release"}
    data = {"pwin": hist, "fan": hist, "votes": votes}
    figures = "\n".join(
        _figure(n, captions[n], with_rows(chart_spec(n, inner_pct is not None), data[n])) for n in CHARTS
    )
    when = local_time(fc.ballot.released_at.iloc[-1], tz)
    body = f"""<p class="crumbs"><a href="../index.html">← All contests</a></p>
<h1>{e(contest)}</h1>
<p class="lede">{e(row["contest_group"])} · {status_badge(str(row["status"]))} {e(row["message"])}<br>
As of release {int(fc.ballot.release_ids[-1])}{f", published {e(when)}" if when else ""};
{fmt_count(row["votes"])} votes counted.</p>
{_candidates(fc, contest, win_label, fc.ballot.parties[contest])}
<div class="charts">
{figures}
</div>
{_pwin_table(hist, win_label)}
{_messages(fc, contest, reason, note)}"""
    return page(f"{contest} · {heading}", body, root="../", heading=heading, charts=True)


def contest_file(contest: str) -> str:
    """The page's path below the site's top folder."""
    return f"contests/{contest_slug(contest)}.html"
