"""The notebook view of a [`Count`][racecast.Count]: its totals and a status of what is left."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd

from ._format import TOTAL_LABELS, last_reported
from ._html import html_summary


class _Viewed(Protocol):
    """What the view reads of a [`Count`][racecast.Count] (a protocol: ``count`` imports this module)."""

    @property
    def name(self) -> str: ...
    @property
    def released_at(self) -> pd.Series: ...
    @property
    def release_ids(self) -> np.ndarray: ...
    @property
    def release_batch_types(self) -> tuple[str, ...]: ...
    @property
    def outstanding_total(self) -> np.ndarray: ...
    @property
    def expected_total(self) -> np.ndarray: ...
    def __len__(self) -> int: ...
    def latest_outstanding(self) -> dict[str, tuple[float, int]]: ...
    @property
    def n_candidates(self) -> int: ...
    @property
    def totals(self) -> pd.Series: ...
    @property
    def increments(self) -> pd.DataFrame: ...
    @property
    def outstanding_unit(self) -> str: ...
    @property
    def corrections(self) -> list[int]: ...


def count_status(count: _Viewed) -> dict[str, str]:
    """The one-line status of the notebook view: where the count stands and what is left."""
    at = count.released_at.iloc[-1]
    latest = count.latest_outstanding()
    left = ", ".join(f"{t} {a:,.0f}" for t, (a, _) in latest.items()) or "not reported"
    if len({r for _, r in latest.values()}) == 1:
        left += f" at release {next(iter(latest.values()))[1]}"
    for label, values in zip(TOTAL_LABELS, (count.outstanding_total, count.expected_total), strict=True):
        i = last_reported(values)
        if i is not None:
            left += f"; {label} {values[i]:,.0f} at release {count.release_ids[i]}"
    status = {
        "after release": f"{count.release_ids[-1]}" + ("" if pd.isna(at) else f" ({at:%Y-%m-%d %H:%M} UTC)"),
        "latest batch": count.release_batch_types[-1],
        f"outstanding {count.outstanding_unit}": left,
    }
    if count.corrections:
        status["corrections at releases"] = ", ".join(map(str, count.corrections))
    return status


def count_html(count: _Viewed) -> str:
    """The HTML a notebook shows for a count: its totals, the last release and the status."""
    totals = count.totals
    counted = int(totals.sum())
    table = pd.DataFrame(
        {
            "votes": totals,
            "share": totals / counted if counted else np.nan,
            "last release": count.increments.iloc[-1],
        }
    ).sort_values("votes", ascending=False, kind="stable")
    title = (
        f"Count {count.name}: {len(count)} releases, {count.n_candidates} candidates, "
        f"{counted:,} votes counted"
    )
    return html_summary(title, count_status(count), table)
