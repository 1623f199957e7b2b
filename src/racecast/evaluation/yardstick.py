"""A simple moments-based batch-type yardstick: what racecast must clearly beat.

``type_moments`` is the forecast a careful analyst could make with a spreadsheet and
no model: each batch type's remaining votes split like that type's counted votes, with
an uncertainty taken from how much the type's batches varied (method of moments).
It is the natural yardstick for a batch-type model: it knows batch types and batch
noise, and nothing else (no pooling across types, no drift, no prior, no
uncertainty about how much is outstanding).

For each batch type ``t`` with counted batches ``j = 1..J`` (votes ``v_j``, sizes
``n_j``, shares ``s_j = v_j / n_j``):

* the type's share ``p_t = sum_j v_j / sum_j n_j`` (size-weighted);
* the between-batch covariance of the shares
  ``B_t = sum_j n_j (s_j - p_t)(s_j - p_t)^T / sum_j n_j * J / (J - 1)`` (``J >= 2``;
  for a type with one batch, the covariance pooled over every type's batches; with no
  type of two batches, none);
* the remainder of ``m_t`` votes comes in ``k_t = max(1, m_t / mean n_j)`` batches,
  so its share is ``Normal(p_t, B_t / k_t + B_t / J)``: batch noise averaged over the
  future batches, plus the error of ``p_t`` itself;
* a type with outstanding votes and no counted batch splits like all counted votes,
  with the spread of the counted types' shares around it (``sum_t w_t (p_t - p)(p_t -
  p)^T``, weights the types' votes) added, or the pooled batch covariance when only one
  type was counted.

Draws of the remainder's shares are clipped at 0 and renormalised; votes follow; the
win probability and the final-share intervals are read from the draws (plurality).
Outstanding amounts are racecast's own
([`resolve_outstanding`][racecast.outstanding.resolve_outstanding], stale estimates
reduced), converted to contest votes, and taken as exact.

Examples
--------
>>> import racecast
>>> from racecast.evaluation.yardstick import type_moments
>>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
>>> fc = type_moments(count[:4], seed=1)
>>> fc.method, bool(fc.win_probability.sum().round(9) == 1)
('type_moments', True)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..count import Count
from ..errors import ForecastInputError
from ..outstanding import resolve_outstanding
from ..rules import Plurality
from .baselines import BaselineForecast, _Amounts, _check_interval, _Seed

__all__ = ["type_moments"]


def _type_moments(
    batches: pd.DataFrame, cands: list[str]
) -> dict[str, tuple[np.ndarray, np.ndarray, int, float]]:
    """Type -> (share ``p_t``, between-batch covariance ``B_t`` or NaN, batches ``J``, mean batch size)."""
    out = {}
    for t, part in batches.groupby("batch_type", sort=False):
        v = part[cands].to_numpy(dtype=float)
        n = v.sum(axis=1)
        v, n = v[n > 0], n[n > 0]
        if not len(n):
            continue
        p = v.sum(axis=0) / n.sum()
        if len(n) >= 2:
            d = v / n[:, None] - p
            cov = (
                (n[:, None, None] * d[:, :, None] * d[:, None, :]).sum(axis=0)
                / n.sum()
                * len(n)
                / (len(n) - 1)
            )
        else:
            cov = np.full((len(cands), len(cands)), np.nan)
        out[str(t)] = (p, cov, len(n), float(n.mean()))
    return out


def type_moments(
    count: Count, *, remaining: _Amounts = None, interval: float = 0.9, seed: _Seed = None, draws: int = 2000
) -> BaselineForecast:
    """Yardstick: each type's remainder splits like its counted batches, with their spread (module docstring).

    Parameters
    ----------
    count
        The count as it stands.
    remaining
        Outstanding amounts by type overriding the count's, as in [`forecast`][racecast.forecast].
    interval, seed, draws
        Interval mass, random seed and Monte Carlo draws.

    Returns
    -------
    BaselineForecast
        ``split`` is the expected split of all remaining votes.
    """
    _check_interval(interval)
    cands = list(count.candidates)
    moments = _type_moments(count.batches(), cands)
    if not moments:
        raise ForecastInputError(
            f"{count.name}: no release has added votes yet; nothing to split the rest like"
        )
    covs = [c for _, c, j, _ in moments.values() if j >= 2]
    pooled = np.mean(covs, axis=0) if covs else np.zeros((len(cands), len(cands)))
    counted = count.votes[-1].astype(float)
    overall = counted / counted.sum()
    if len(moments) >= 2:
        w = np.array([m[3] * m[2] for m in moments.values()])
        d = np.array([m[0] for m in moments.values()]) - overall
        spread = (w[:, None, None] * d[:, :, None] * d[:, None, :]).sum(axis=0) / w.sum()
    else:
        spread = pooled
    rng = np.random.default_rng(seed)
    out = resolve_outstanding(count, remaining)
    final = np.tile(counted, (draws, 1))
    expected = np.zeros(len(cands))
    for t, m in out.votes.items():
        if m <= 0:
            continue
        if t in moments:
            p, cov, j, size = moments[t]
            cov = pooled if j < 2 else cov
            sd_cov = cov / max(1.0, m / size) + cov / j
        else:
            p, sd_cov = overall, spread + pooled
        shares = rng.multivariate_normal(p, sd_cov, size=draws, method="eigh", check_valid="ignore")
        shares = np.clip(shares, 0.0, None)
        shares /= np.maximum(shares.sum(axis=1, keepdims=True), 1e-12)
        final += m * shares
        expected += m * p
    votes = np.rint(final)
    idx = pd.Index(cands, name="candidate")
    a = (1.0 - interval) / 2.0
    q = np.quantile(votes, [0.5, a, 1.0 - a], axis=0).T
    share_q = np.quantile(votes / votes.sum(axis=1, keepdims=True), [0.5, a, 1.0 - a], axis=0).T
    cols = pd.Index(["median", "lower", "upper"])
    win = Plurality().evaluate(votes.astype(np.int64), count.candidates, rng).win_probability.to_numpy()
    split = expected / expected.sum() if expected.sum() > 0 else overall
    return BaselineForecast(
        method="type_moments",
        win_probability=pd.Series(win, index=idx, name="win_probability"),
        final_share=pd.DataFrame(share_q, index=idx, columns=cols),
        final_votes=pd.DataFrame(q, index=idx, columns=cols),
        split=pd.Series(split, index=idx, name="split"),
        remaining_votes=round(out.total_votes),
        interval=interval,
    )
