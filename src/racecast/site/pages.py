"""The HTML of the report site: the page frame, the index of every contest and the releases table.

Pages are plain HTML5 with every value escaped; styles and scripts come from
the site's ``assets`` folder, referenced relatively so the site opens from
``file://``.  Tables use ``<caption>``, ``<th scope>`` and ``aria-sort``; the
index's sorting and filtering is ``assets/report.js``.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from .._format import TOTAL_LABELS
from .._version import __version__
from ..ballot import Ballot
from ..ballot_forecast import STATUSES, BallotForecast
from ..model import Priors
from ..report import display_probabilities
from ..settings import DEFAULT_DRAWS, DEFAULT_ENGINE, DEFAULT_OUTSTANDING_SD
from .build import interval_of, local_time

__all__ = [
    "fmt_count",
    "fmt_p",
    "fmt_ps",
    "fmt_share",
    "page",
    "index_page",
    "releases_table",
    "status_badge",
]

#: Scripts every page with charts loads, in order (vega-embed needs vega and vega-lite).
CHART_SCRIPTS = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")


def e(value: object) -> str:
    """``value`` escaped for HTML text and attributes."""
    return html.escape(str(value), quote=True)


def fmt_p(p: float) -> str:
    """A probability as a percentage: ``97.3%``, ``>99.9%``, ``<0.1%``, ``""`` when missing."""
    if p is None or not math.isfinite(p):
        return ""
    if 0 < p < 0.001:
        return "<0.1%"
    if 0.999 < p < 1:
        return ">99.9%"
    return f"{100 * p:.1f}%"


def fmt_ps(ps: Iterable[float]) -> list[str]:
    """Probabilities of one contest as by `fmt_p`, rounded so the shown percentages keep their sum."""
    p = np.asarray(list(ps), dtype=float)
    shown = display_probabilities(p)
    return [fmt_p(x if (0 < x < 0.001 or 0.999 < x < 1) else y) for x, y in zip(p, shown, strict=True)]


def fmt_share(median: float, lower: float, upper: float) -> str:
    """A final share and its interval: ``52.1% (49.0-55.3%)``."""
    if not all(math.isfinite(x) for x in (median, lower, upper)):
        return ""
    if lower == upper:
        return f"{100 * median:.1f}%"
    return f"{100 * median:.1f}% ({100 * lower:.1f}–{100 * upper:.1f}%)"


def fmt_count(n: float) -> str:
    """A whole number with thousands separators (``""`` when missing)."""
    return "" if n is None or not math.isfinite(float(n)) else f"{int(n):,}"


def status_badge(status: str) -> str:
    """A status as a labelled badge (its meaning in the tooltip)."""
    cls = status.replace(" ", "-")
    return f'<span class="badge s-{e(cls)}" title="{e(STATUSES.get(status, ""))}">{e(status)}</span>'


def _num(value: float) -> str:
    """A ``data-value`` for sorting: the number, or empty (sorted last) when missing."""
    return "" if value is None or not math.isfinite(value) else f"{value:.6g}"


def page(title: str, body: str, *, root: str, heading: str, charts: bool = False) -> str:
    """A whole page: ``root`` is the relative path back to the site's top (``""`` or ``"../"``)."""
    scripts = [*(CHART_SCRIPTS if charts else ()), "report.js"]
    tags = "\n".join(f'<script src="{root}assets/{s}"></script>' for s in scripts)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<link rel="stylesheet" href="{root}assets/report.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><a href="{root}index.html">{e(heading)}</a></header>
<main id="main">
{body}
</main>
<footer class="foot">Made with racecast {e(__version__)}. Probabilities are the model's, not calls by an
authority.</footer>
{tags}
</body>
</html>
"""


def _th(label: str, key: str, kind: str, sort: str | None = None) -> str:
    aria = f' aria-sort="{sort}"' if sort else ""
    return (
        f'<th scope="col"{aria}><button type="button" data-key="{key}" data-type="{kind}">'
        f'{e(label)}<span class="arrow" aria-hidden="true"></span></button></th>'
    )


def _index_row(name: str, r: pd.Series) -> str:
    share = fmt_share(r["share_median"], r["share_lower"], r["share_upper"])
    return (
        f'<tr data-contest="{e(name)}" data-status="{e(r["status"])}">'
        f'<th scope="row" data-value="{e(name)}"><a href="contests/{e(r["slug"])}.html">{e(name)}</a>'
        f'<span class="group">{e(r["contest_group"])}</span></th>'
        f'<td data-value="{e(r["status"])}">{status_badge(r["status"])}</td>'
        f'<td data-value="{e(r["leader"])}">{e(r["leader"])}</td>'
        f'<td data-value="{e(r["outcome"])}">{e(r["outcome"])}</td>'
        f'<td class="num" data-value="{_num(r["probability"])}">{fmt_p(r["probability"])}</td>'
        f'<td class="num" data-value="{_num(r["share_median"])}">{share}</td>'
        f'<td class="num" data-value="{_num(r["lead_change"])}">{fmt_p(r["lead_change"])}</td>'
        f'<td class="num" data-value="{r["votes"]}">{fmt_count(r["votes"])}</td>'
        "</tr>"
    )


def _controls(statuses: Iterable[str], n: int) -> str:
    options = "".join(f'<option value="{e(s)}">{e(s)}</option>' for s in statuses)
    return f"""<div class="controls">
<div><label for="filter">Filter contests</label>
<input type="search" id="filter" placeholder="contest, group or candidate" autocomplete="off"></div>
<div><label for="status-filter">Status</label>
<select id="status-filter"><option value="">every status</option>{options}</select></div>
</div>
<p id="shown" class="shown" aria-live="polite">{n} of {n} contests shown</p>"""


def index_page(
    ballot: Ballot, fc: BallotForecast, rows: pd.DataFrame, tz: dt.tzinfo, forecast_releases: list[int]
) -> str:
    """The index: a summary of the release, then every contest in a sortable, filterable table."""
    k = int(fc.ballot.release_ids[-1])
    when = local_time(fc.ballot.released_at.iloc[-1], tz)
    pct = round(100 * interval_of(fc))
    counts = " · ".join(f"{status_badge(s)} {n}" for s, n in fc.status_counts.items())
    head = "".join(
        [
            _th("Contest", "contest", "text"),
            _th("Status", "status", "text"),
            _th("Leader", "leader", "text"),
            _th("Most likely outcome", "outcome", "text"),
            _th("P(most likely)", "probability", "num", sort="ascending"),
            _th(f"Leader's final share, {pct}% interval", "share", "num"),
            _th("P(lead changes)", "lead_change", "num"),
            _th("Votes counted", "votes", "num"),
        ]
    )
    body_rows = "\n".join(_index_row(str(name), r) for name, r in rows.iterrows())
    table = f"""<div class="scroll" tabindex="0" role="region" aria-labelledby="contests-caption">
<table id="contests" class="data">
<caption id="contests-caption">Every contest as of release {k}, closest races first</caption>
<thead><tr>{head}</tr></thead>
<tbody>
{body_rows}
</tbody>
</table>
</div>"""
    return f"""<h1>{e(ballot.name)}: forecast as of release {k}</h1>
<p class="lede">Release {k}{f" published {e(when)}" if when else ""}, {len(rows)} contests:
{counts}</p>
<p class="hint">Closest races first: the lowest probability of the most likely outcome. Select a column
heading to sort by it; scroll the table sideways on a small screen.</p>
<p class="hint" id="how">{e(how_made(fc))}</p>
{_controls(fc.status_counts.index, len(rows))}
{table}
{releases_table(ballot, tz, forecast_releases)}"""


def _priors_given(st: Mapping[str, object]) -> str:
    """The priors (and ``outstanding_sd``) a forecast was given that differ from the defaults, or ``""``.

    Scales learned across contests are not given: ``how_made`` names them itself.
    """
    given = st.get("priors")
    learned = st.get("shared_scales")
    default = vars(Priors())
    changed = [
        (k, v)
        for k, v in (given.items() if isinstance(given, Mapping) else ())
        if k in default and v != default[k] and not (isinstance(learned, Mapping) and k in learned)
    ]
    sd = st.get("outstanding_sd", DEFAULT_OUTSTANDING_SD)
    if sd != DEFAULT_OUTSTANDING_SD:
        changed.append(("outstanding_sd", sd))
    return ", ".join(f"{k} {'off' if v is None else f'{v:.3g}'}" for k, v in changed)


def how_made(fc: BallotForecast) -> str:
    """One sentence on how the ballot forecast was made (engine, draws, seed, priors given, shared scales)."""
    st = fc.settings
    engine, draws = st.get("engine", DEFAULT_ENGINE), st.get("draws", DEFAULT_DRAWS)
    made = f"Engine {engine}, {draws:,} draws per contest, seed {st.get('seed', '?')}"
    given = _priors_given(st)
    shared = st.get("shared_scales")
    if not shared:
        priors = f"the priors given ({given})" if given else "the default priors"
        return f"{made}; each contest's scales from its own batches and {priors}."
    if given:
        made = f"{made}; priors given ({given})"
    turnout = (
        f"; turnout: type spread {shared['rate_type_sd']:.3g}, batch spread {shared['rate_batch_sd']:.3g}"
        if "rate_type_sd" in shared
        else ""
    )
    return (
        f"{made}; the model's scales learned across {shared['contests']} contests "
        f"(type spread {shared['type_sd']:.3g}, batch spread {shared['batch_sd']:.3g}{turnout})."
    )


def _outstanding_cell(ballot: Ballot, i: int) -> str:
    """Release ``i``'s outstanding estimates as published: by type, a total, a projection."""
    row = ballot.outstanding.iloc[i]
    parts = [f"{t} {fmt_count(row[t])}" for t in ballot.outstanding.columns if np.isfinite(row[t])]
    for label, values in zip(TOTAL_LABELS, (ballot.outstanding_total, ballot.expected_total), strict=True):
        if np.isfinite(values[i]):
            parts.append(f"{label} {fmt_count(values[i])}")
    return ", ".join(parts)


def releases_table(ballot: Ballot, tz: dt.tzinfo, forecast_releases: list[int]) -> str:
    """The jurisdiction's releases so far, with the forecast ones marked."""
    rows = []
    for i, rid in enumerate(ballot.release_ids):
        mark = "yes" if int(rid) in forecast_releases else ""
        rows.append(
            f'<tr><th scope="row">{int(rid)}</th><td>{e(local_time(ballot.released_at.iloc[i], tz))}</td>'
            f"<td>{e(ballot.release_batch_types[i])}</td>"
            f'<td class="num">{fmt_count(ballot.ballots_counted[i])}</td>'
            f"<td>{e(_outstanding_cell(ballot, i))}</td><td>{mark}</td></tr>"
        )
    return f"""<h2 id="releases">Releases</h2>
<div class="scroll" tabindex="0" role="region" aria-labelledby="releases-caption">
<table class="data">
<caption id="releases-caption">The jurisdiction's releases: ballots counted and outstanding as
published (by type, or an outstanding total without a split; a "projected final total" is a
projection of the final ballots, used only when nothing is published).</caption>
<thead><tr><th scope="col">Release</th><th scope="col">Published</th><th scope="col">Batch type</th>
<th scope="col">Ballots counted</th><th scope="col">Outstanding ballots</th>
<th scope="col">Forecast</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
</div>"""


def labels(ballot: Ballot, tz: dt.tzinfo) -> Mapping[int, str]:
    """Each release's axis label: its number and local date, e.g. ``2 · Nov 10``."""
    return {
        int(rid): f"{int(rid)} · {local_time(at, tz, '%b %-d')}".rstrip(" ·")
        for rid, at in zip(ballot.release_ids, ballot.released_at, strict=True)
    }
