"""Synthetic counts from a known generative process, for calibration checks.

The process is deliberately *not* racecast's own model: batch types are counted
in a realistic order (early mail, then in-person, then late mail, with
provisionals last), batch sizes vary log-normally, the lean of a type drifts
along it, and the published outstanding estimates are wrong by a random factor.
With ``misspecified=True`` batch deviations are heavy-tailed (Student-t, 3 d.f.),
the drift is curved instead of linear, and the estimates are also biased, so
calibration is checked against a world the model does not describe exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..count import Count

__all__ = ["SyntheticCount", "synthetic_count"]

_ORDER = ("early_mail", "vote_center", "election_day", "late_mail", "provisional")


@dataclass(frozen=True)
class SyntheticCount:
    """A synthetic count cut part-way, and the truth it was cut from.

    Attributes
    ----------
    count : Count
        The releases published so far, with outstanding estimates (in votes).
    full : Count
        Every release, to the end of the count.
    final_votes : numpy.ndarray
        The true final totals per candidate.
    """

    count: Count
    full: Count
    final_votes: np.ndarray

    @property
    def winner(self) -> str:
        """The true winner (most final votes)."""
        return self.count.candidates[int(np.argmax(self.final_votes))]

    @property
    def final_share(self) -> np.ndarray:
        """The true final shares."""
        return self.final_votes / self.final_votes.sum()


def synthetic_count(
    rng: np.random.Generator,
    *,
    n_candidates: int = 2,
    misspecified: bool = False,
    total_votes: int | None = None,
) -> SyntheticCount:
    """Draw one synthetic count and cut it at a random release.

    Parameters
    ----------
    rng
        Random generator.
    n_candidates
        Number of candidates.
    misspecified
        Heavy-tailed batch deviations, curved drift and biased outstanding
        estimates (see the module docstring).
    total_votes
        Contest size (default: log-uniform between 20,000 and 2,000,000).

    Returns
    -------
    SyntheticCount

    Examples
    --------
    >>> import numpy as np
    >>> from racecast.evaluation.synthetic import synthetic_count
    >>> s = synthetic_count(np.random.default_rng(1))
    >>> len(s.count) < len(s.full)
    True
    """
    k = n_candidates
    n_types = int(rng.integers(2, 5))
    types = sorted(rng.choice(len(_ORDER), size=n_types, replace=False))
    type_names = [_ORDER[i] for i in types]
    total = int(total_votes or np.exp(rng.uniform(np.log(2e4), np.log(2e6))))
    volume = rng.dirichlet(np.full(n_types, 2.0)) * total
    base = rng.normal(0.0, 0.3, size=k)  # contest-wide candidate scores
    type_shift = rng.normal(0.0, 0.35, size=(n_types, k))
    drift = rng.normal(0.0, 0.25, size=(n_types, k))
    batch_sd = rng.uniform(0.02, 0.2)
    rows = []
    for ti, name in enumerate(type_names):
        n_b = int(rng.integers(1, 9))
        sizes = rng.lognormal(0.0, 0.5, size=n_b)
        sizes = np.maximum(np.rint(sizes / sizes.sum() * volume[ti]), 1).astype(np.int64)
        pos = (np.cumsum(sizes) - sizes / 2) / sizes.sum() - 0.5
        for j in range(n_b):
            shape = pos[j] if not misspecified else 2.0 * (pos[j] ** 2) - 1 / 6 + 0.5 * pos[j]
            if misspecified:
                dev = batch_sd * rng.standard_t(3, size=k) / np.sqrt(3.0)
            else:
                dev = rng.normal(0.0, batch_sd, size=k)
            score = base + type_shift[ti] + shape * drift[ti] + dev
            p = np.exp(score - score.max())
            rows.append((name, rng.multinomial(sizes[j], p / p.sum())))
    votes = np.cumsum(np.array([r[1] for r in rows]), axis=0)
    names = [f"Candidate {chr(65 + i)}" for i in range(k)]
    n = len(rows)
    # outstanding per type after each release, as a registrar would estimate it
    est_sd, bias = (0.15, rng.normal(0.0, 0.1)) if misspecified else (0.1, 0.0)
    cut = int(rng.integers(1, n)) if n > 1 else 1
    truth_remaining = dict.fromkeys(type_names, 0)
    for name, v in rows[cut:]:
        truth_remaining[name] += int(v.sum())
    table = {"release": np.arange(1, n + 1), "batch_type": [r[0] for r in rows]}
    for i, c in enumerate(names):
        table[c] = votes[:, i]
    frame = pd.DataFrame(table)
    outstanding = {
        t: float(np.rint(v * np.exp(rng.normal(bias, est_sd)))) for t, v in truth_remaining.items()
    }
    full = _to_count(frame, names, None)
    partial = _to_count(frame.iloc[:cut], names, outstanding)
    return SyntheticCount(count=partial, full=full, final_votes=votes[-1].copy())


def _to_count(frame: pd.DataFrame, names: list[str], outstanding: dict[str, float] | None) -> Count:
    tidy = frame.melt(
        id_vars=["release", "batch_type"], value_vars=names, var_name="candidate", value_name="votes"
    )
    tidy["order"] = tidy["candidate"].map({c: i for i, c in enumerate(names)})
    tidy = tidy.sort_values(["release", "order"]).drop(columns="order")
    return Count.from_frame(tidy, outstanding=outstanding, name="<synthetic>")
