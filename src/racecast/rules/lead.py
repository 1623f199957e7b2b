"""Lead changes: how likely the candidate leading now is not to finish first."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..errors import ForecastInputError
from .base import _check_votes, _eligible

__all__ = ["lead_change_probability"]


def lead_change_probability(
    current_votes: pd.Series | np.ndarray | Iterable[float],
    final_votes: np.ndarray,
    candidates: Iterable[str] | None = None,
) -> float:
    """P(the candidate leading now does not finish first).

    The current leader is the candidate with the most votes in
    ``current_votes`` (when several are tied for the lead, the lead is theirs
    together).  In each draw of ``final_votes`` the first-placed candidate is
    found with ties split evenly, exactly as the coin flip of
    [`Plurality`][racecast.rules.Plurality] would in expectation, so the result
    needs no random numbers.  "First" means most votes whatever the contest rule
    (for a majority rule: who tops the first round).  Pooled blocs are never
    leaders.

    Parameters
    ----------
    current_votes
        Votes counted so far per candidate (a Series indexed by candidate, or an
        array in the column order of ``final_votes``).
    final_votes
        ``(draws, candidates)`` simulated final votes.
    candidates
        Names of the columns (taken from the Series index when omitted).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> final = np.array([[240e3, 250e3], [260e3, 250e3], [255e3, 255e3]])
    >>> lead_change_probability([133_059, 116_688], final)
    0.5
    """
    if candidates is None and isinstance(current_votes, pd.Series):
        candidates = [str(c) for c in current_votes.index]
    cur = np.asarray(current_votes, dtype=np.float64).ravel()
    votes, cands = _check_votes(
        final_votes, candidates if candidates is not None else [str(i) for i in range(cur.size)]
    )
    if cur.size != votes.shape[1] or not np.isfinite(cur).all():
        raise ForecastInputError(
            f"current votes must be finite, one per candidate ({votes.shape[1]}), got {cur.size} values"
        )
    eligible = _eligible(cands)
    cur_e = np.where(eligible, cur, -np.inf)
    leaders = eligible & (cur_e == cur_e.max())
    fin = np.where(eligible[None, :], votes, -np.inf)
    top = fin == fin.max(axis=1, keepdims=True)
    p_keep = (top & leaders[None, :]).sum(axis=1) / top.sum(axis=1)
    return float(1.0 - p_keep.mean())
