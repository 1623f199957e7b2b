"""The table of a [`Replay`][racecast.Replay]: one row per release, and its tidy long form.

[`wide_table`][racecast.evaluation._replay_table.wide_table] is ``Replay.table``
(one row per release, a column per quantity and candidate);
[`tidy_table`][racecast.evaluation._replay_table.tidy_table] is
[`Replay.to_frame`][racecast.Replay.to_frame], one row per (release, candidate)
under the names of a forecast's table ([`TABLE_COLUMNS`][racecast.report.TABLE_COLUMNS]).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..count import Count
from ..report import TABLE_COLUMNS
from ..result import Forecast

__all__ = [
    "CANDIDATE_QUANTITIES",
    "TIDY_COLUMNS",
    "candidate_table",
    "release_row",
    "tidy_table",
    "wide_table",
]

#: The per-candidate quantities of a replay row: the forecast table's probability and final-share columns.
CANDIDATE_QUANTITIES = tuple(
    c for c in TABLE_COLUMNS if c == "win_probability" or c.startswith("final_share_")
)


def candidate_table(fc: Any, cands: list[str]) -> pd.DataFrame:
    """The forecast's per-candidate quantities, named as in the report's forecast table.

    A racecast [`Forecast`][racecast.Forecast] is read off
    [`Forecast.table`][racecast.Forecast.table]; a baseline (or any object with
    ``win_probability`` and ``final_share``) is put under the same names.
    """
    if isinstance(fc, Forecast):
        table = fc.table().set_index("candidate")
    else:
        table = fc.final_share.add_prefix("final_share_")
        table["win_probability"] = fc.win_probability
    return table.reindex(cands)[list(CANDIDATE_QUANTITIES)].astype(float)


def release_row(sub: Count, fc: Any, notes: list[str]) -> dict[tuple[str, str], Any]:
    """One row of the replay table: the count after release ``k`` and the forecast made from it."""
    cands = list(sub.candidates)
    votes = sub.votes[-1]
    order = np.argsort(-votes, kind="stable")
    leader, lead = cands[int(order[0])], int(votes[order[0]] - votes[order[1]])
    row: dict[tuple[str, str], Any] = {
        ("released_at", ""): sub.released_at.iloc[-1],
        ("batch_type", ""): sub.release_batch_types[-1],
        ("leader", ""): leader,
        ("lead", ""): lead,
    }
    if fc is None:
        row.update({(q, c): np.nan for q in CANDIDATE_QUANTITIES for c in cands})
        row[("lead_change_probability", "")] = np.nan
        row[("note", "")] = "; ".join(notes)
        return row
    table = candidate_table(fc, cands)
    row.update({(q, c): float(table.loc[c, q]) for q in CANDIDATE_QUANTITIES for c in cands})
    lcp = getattr(fc, "lead_change_probability", None)  # racecast's, whatever the rule
    row[("lead_change_probability", "")] = (
        1.0 - float(table.loc[leader, "win_probability"]) if lcp is None else float(lcp)
    )
    row[("note", "")] = "; ".join([f"forecast: {leader} leads by {lead:,}", *notes])
    return row


def wide_table(
    rows: list[dict[tuple[str, str], Any]], releases: np.ndarray, cands: list[str]
) -> pd.DataFrame:
    """``Replay.table``: one [`release_row`][racecast.evaluation._replay_table.release_row] per release."""
    cols = [("released_at", ""), ("batch_type", ""), ("leader", ""), ("lead", "")]
    cols += [(q, c) for q in CANDIDATE_QUANTITIES for c in cands]
    cols += [("lead_change_probability", ""), ("note", "")]
    table = pd.DataFrame(rows, index=pd.Index(releases, name="release"))[cols]
    table.columns = pd.MultiIndex.from_tuples(cols, names=["quantity", "candidate"])
    return table


#: Columns of [`Replay.to_frame`][racecast.Replay.to_frame], one row per (release, candidate).
TIDY_COLUMNS = (
    "contest",
    "as_of_release",
    "released_at",
    "batch_type",
    "candidate",
    "votes",
    *CANDIDATE_QUANTITIES,
    "leader",
    "lead",
    "lead_change_probability",
    "note",
)


def tidy_table(table: pd.DataFrame, count: Count) -> pd.DataFrame:
    """A replay's table (one row per release) as one row per (release, candidate).

    ``as_of_release`` is the release forecast after, ``votes`` the candidate's votes
    counted then, ``leader`` whether the candidate led then (as in a forecast's
    table); ``released_at``, ``batch_type``, ``lead``, ``lead_change_probability``
    and ``note`` repeat the release's values on each of its candidates' rows.
    """
    cands = list(count.candidates)
    n, k = len(table), len(cands)

    def per_release(q: str) -> pd.Series:
        return table[(q, "")].repeat(k).reset_index(drop=True)

    columns: dict[str, Any] = {
        "contest": [count.name] * (n * k),
        "as_of_release": np.repeat(table.index.to_numpy(), k),
        "released_at": per_release("released_at"),
        "batch_type": per_release("batch_type"),
        "candidate": cands * n,
        "votes": count.votes[:n].reshape(-1),
    }
    for q in CANDIDATE_QUANTITIES:
        columns[q] = table[q][cands].to_numpy(dtype=float).reshape(-1)
    columns["leader"] = per_release("leader").to_numpy() == np.array(cands * n, dtype=object)
    for q in ("lead", "lead_change_probability", "note"):
        columns[q] = per_release(q)
    return pd.DataFrame(columns, columns=list(TIDY_COLUMNS))
