"""Vega-Lite charts of one contest, made with altair.

Each chart is built once, on a named data set (``rows``), and turned into a
Vega-Lite spec; [`with_rows`][racecast.site.charts.with_rows] fills a copy with
one contest's rows, so a ballot of hundreds of contests builds three charts, not
three per contest.  The browser draws them with the vega, vega-lite and
vega-embed scripts shipped in the site's ``assets`` folder.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import pandas as pd

__all__ = ["CHARTS", "chart_spec", "with_rows"]

#: The charts of a contest page, by name, with their captions.
CHARTS = {
    "pwin": "Probability of winning after each release",
    "fan": "Final vote share: median and intervals after each release",
    "votes": "Votes counted and still expected, by batch type",
}

_HEIGHT = 260
_X_LABEL = "release"


def _altair() -> Any:
    try:
        import altair as alt
    except ImportError:  # pragma: no cover - the report extra is missing
        raise ImportError("the HTML report needs altair: pip install 'racecast[report]'") from None
    return alt


def _release_axis(alt: Any) -> Any:
    return alt.X(
        "label:N",
        sort=alt.EncodingSortField(field="release", op="min"),
        title=_X_LABEL,
        axis=alt.Axis(labelAngle=0, labelOverlap=True),
    )


def _candidate_colour(alt: Any) -> Any:
    return alt.Color(
        "candidate:N", title=None, sort=None, legend=alt.Legend(orient="bottom", columns=2, symbolOpacity=1)
    )


def _pwin(alt: Any) -> Any:
    base = alt.Chart(alt.Data(name="rows"))
    return base.mark_line(point=True, strokeWidth=2).encode(
        x=_release_axis(alt),
        y=alt.Y(
            "win_probability:Q",
            title="P(win)",
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format=".0%"),
        ),
        color=_candidate_colour(alt),
        tooltip=[
            alt.Tooltip("label:N", title="release"),
            alt.Tooltip("candidate:N"),
            alt.Tooltip("win_probability:Q", title="P(win)", format=".1%"),
        ],
    )


def _fan(alt: Any, inner: bool) -> Any:
    base = alt.Chart(alt.Data(name="rows")).encode(x=_release_axis(alt), color=_candidate_colour(alt))
    share = alt.Axis(format=".0%")
    outer = base.mark_area(opacity=0.18).encode(
        y=alt.Y("lower:Q", title="final vote share", axis=share, scale=alt.Scale(zero=False)),
        y2="upper:Q",
    )
    span = base.mark_rule(opacity=0.5, strokeWidth=2).encode(y="lower:Q", y2="upper:Q")
    layers = [outer, span]
    if inner:
        layers.append(base.mark_area(opacity=0.35).encode(y="inner_lower:Q", y2="inner_upper:Q"))
    tips = [
        alt.Tooltip("label:N", title="release"),
        alt.Tooltip("candidate:N"),
        alt.Tooltip("median:Q", format=".1%"),
        alt.Tooltip("lower:Q", format=".1%"),
        alt.Tooltip("upper:Q", format=".1%"),
    ]
    layers.append(base.mark_line(point=True, strokeWidth=2).encode(y="median:Q", tooltip=tips))
    return alt.layer(*layers)


def _votes(alt: Any) -> Any:
    return (
        alt.Chart(alt.Data(name="rows"))
        .mark_bar()
        .encode(
            y=alt.Y("batch_type:N", title="batch type", sort=None),
            x=alt.X("votes:Q", title="votes", stack=True, axis=alt.Axis(format="~s")),
            color=alt.Color(
                "kind:N",
                title=None,
                scale=alt.Scale(domain=["counted", "outstanding"], range=["#1f5f99", "#e8a33d"]),
                legend=alt.Legend(orient="bottom"),
            ),
            order=alt.Order("kind:N", sort="ascending"),
            tooltip=[
                alt.Tooltip("batch_type:N", title="batch type"),
                alt.Tooltip("kind:N"),
                alt.Tooltip("votes:Q", format=",.0f"),
            ],
        )
    )


@cache
def chart_spec(name: str, inner: bool = False) -> dict[str, Any]:
    """The Vega-Lite spec of chart ``name`` (one of [`CHARTS`][racecast.site.charts.CHARTS]), without data."""
    alt = _altair()
    make = {"pwin": _pwin, "fan": lambda a: _fan(a, inner), "votes": _votes}[name]
    chart = make(alt).properties(width="container", height=_HEIGHT if name != "votes" else 160)
    chart = chart.configure_view(stroke=None).configure_axis(labelFontSize=12, titleFontSize=12)
    spec: dict[str, Any] = chart.to_dict()
    return spec


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def with_rows(spec: dict[str, Any], rows: pd.DataFrame) -> dict[str, Any]:
    """A copy of ``spec`` holding ``rows`` as its data set (missing numbers as ``null``)."""
    out = dict(spec)  # the spec is shared (cached): only its top level is replaced
    records = [{k: _plain(v) for k, v in r.items()} for r in rows.to_dict(orient="records")]
    out["datasets"] = {"rows": records}
    return out
