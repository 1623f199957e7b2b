"""The notebook view shared by racecast's objects: a title, a status line and a compact table.

Jupyter shows an object through its ``_repr_html_``; [`Count`][racecast.Count],
[`Forecast`][racecast.Forecast], [`Replay`][racecast.Replay], a ballot and a
ballot forecast all build theirs with [`html_summary`][racecast._html.html_summary],
so they look alike (as pandas and xarray objects do).  Every name in the view is
escaped: a candidate called ``<b>`` shows as ``<b>``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["HTML_ROWS", "html_summary"]

#: Rows shown by a notebook view before it says how many more there are.
HTML_ROWS = 20


def html_summary(title: str, counts: Mapping[str, Any], table: pd.DataFrame) -> str:
    """A compact notebook view: a title, a status line of ``name: value`` and the first rows of a table.

    Parameters
    ----------
    title
        The object in one line (escaped).
    counts
        The status line, ``{name: value}`` shown as ``name: value`` (both escaped).
    table
        The table; its first [`HTML_ROWS`][racecast._html.HTML_ROWS] rows are shown,
        with floats to three decimals and blanks for missing values.

    Returns
    -------
    str
        An HTML fragment.
    """
    shown = " · ".join(f"{html.escape(str(k))}: {html.escape(str(v))}" for k, v in counts.items())
    more = len(table) - HTML_ROWS
    body = table.head(HTML_ROWS).to_html(float_format=lambda x: f"{x:.3f}", na_rep="", border=0, escape=True)
    tail = f"<p>… {more} more rows</p>" if more > 0 else ""
    return f"<div><p><strong>{html.escape(title)}</strong><br>{shown}</p>{body}{tail}</div>"
