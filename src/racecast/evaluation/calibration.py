"""Calibration on finished counts: do the intervals and probabilities hold up against the final result?

The unit is a *forecast row*: one candidate in one forecast made before the final
release, with the rule's probability for that candidate, its final-share interval
and what happened.  [`calibration_rows`][racecast.evaluation.calibration.calibration_rows]
turns a [`Replay`][racecast.Replay] into such rows; concatenate the rows of many
replays (with a ``dataset`` column) and summarise them with the functions below.
Every table is a tidy ``pandas.DataFrame``.

Definitions (hand-computable; the tests check them by hand)
-----------------------------------------------------------
Event and outcome
    A candidate's probability is the rule's ([`Forecast.win_probability`][racecast.Forecast.win_probability]):
    P(win), P(seat), P(pass) on a measure's Yes row and P(fail) on its No row.
    ``outcome`` is 1 when that event happened in the final result, else 0.
Stage of the count
    ``outstanding`` is the share of the contest's final votes not yet counted
    when the forecast was made, ``1 - counted / final`` (negative when votes were
    later taken away).  [`STAGES`][racecast.evaluation.calibration.STAGES] bins it:
    ``< 1%``, ``1-5%``, ``5-20%``, ``> 20%`` (edges belong to the later stage).
Coverage and width
    The share of rows whose interval ``[lower, upper]`` holds the final share
    (bounds included), and the mean ``upper - lower`` in share points (0-1 scale).
Brier score
    Per forecast ``sum_c (p_c - outcome_c)^2``, averaged over forecasts: with a plurality
    rule the Brier score of [`racecast.evaluation.metrics`][] (0 perfect, 2 certain and wrong).
Confident wrong call
    A forecast in which some candidate had probability ``>= 0.95`` for an event
    that did not happen.
PIT
    The probability integral transform of the final share within the forecast's
    simulated final shares (those consistent with a call):
    ``(#draws below + 0.5 #draws equal) / #draws``.  Calibrated forecasts give
    uniform PIT values; a 90% interval misses exactly when PIT < 0.05 or > 0.95.
Margin
    How close the final result was, in share points: for a top-``n`` rule the
    ``n``-th minus the ``(n+1)``-th final share; for a measure twice the distance
    of the Yes share from its threshold (the Yes - No margin at 50%).  A contest
    is *competitive* when its margin is below
    [`COMPETITIVE_MARGIN`][racecast.evaluation.calibration.COMPETITIVE_MARGIN].
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..rules import Majority, Plurality, Rule, Seats, Threshold, TopTwo
from .replay import Replay

__all__ = [
    "COMPETITIVE_MARGIN",
    "FORECAST_KEY",
    "PROBABILITY_BINS",
    "STAGES",
    "WIDTH_BINS",
    "brier",
    "calibration_rows",
    "competitive",
    "confident_wrong_calls",
    "coverage_by_stage",
    "final_margin",
    "outcomes",
    "pit_histogram",
    "reliability_table",
    "stage_of",
    "summary",
    "width_vs_coverage",
]

STAGES: tuple[tuple[str, float, float], ...] = (
    ("< 1%", -np.inf, 0.01),
    ("1-5%", 0.01, 0.05),
    ("5-20%", 0.05, 0.20),
    ("> 20%", 0.20, np.inf),
)
"""Stages of the count: ``(label, lower edge, upper edge)`` of the share still outstanding."""
PROBABILITY_BINS: tuple[float, ...] = (0.0, 0.01, 0.05, 0.2, 0.4, 0.6, 0.8, 0.95, 0.99, 1.0)
"""Bin edges of forecast probabilities in the
[`reliability_table`][racecast.evaluation.calibration.reliability_table]."""
WIDTH_BINS: tuple[float, ...] = (0.0, 0.001, 0.005, 0.02, 0.05, np.inf)
"""Interval-width bin edges (share points, 0-1 scale) in
[`width_vs_coverage`][racecast.evaluation.calibration.width_vs_coverage]."""
COMPETITIVE_MARGIN = 0.10
"""A contest is competitive when its final margin (see the module docstring) is below this."""
FORECAST_KEY: tuple[str, ...] = ("dataset", "contest", "release")
"""Columns that identify one forecast among calibration rows (those present are used)."""

_ROW_COLUMNS = ["contest", "release", "candidate", "probability", "outcome", "lower", "median", "upper"]
_ROW_COLUMNS += ["final_share", "covered", "width", "pit", "outstanding", "stage", "margin", "rule"]


def outcomes(rule: Rule, final_votes: pd.Series) -> pd.Series:
    """Whether each candidate's event happened in the final result (1) or not (0).

    The rule is applied to the final votes as one draw, so the event is the one
    its probabilities are about (win, seat, pass/fail).

    Examples
    --------
    >>> import pandas as pd
    >>> from racecast.rules import Seats
    >>> outcomes(Seats(2), pd.Series({"A": 50, "B": 30, "C": 20})).tolist()
    [1, 1, 0]
    """
    cands = [str(c) for c in final_votes.index]
    got = rule.evaluate(
        final_votes.to_numpy(dtype=float)[None, :], cands, np.random.default_rng(0)
    ).win_probability
    return pd.Series(np.rint(got.reindex(cands).to_numpy()).astype(int), index=final_votes.index)


def _winners(rule: Rule) -> int | None:
    top = {Seats: getattr(rule, "n", 1), TopTwo: 2, Plurality: 1}
    return next((int(n) for cls, n in top.items() if isinstance(rule, cls)), None)


def final_margin(rule: Rule, final_votes: pd.Series) -> float:
    """How close the final result was, in share points (see the module docstring).

    Examples
    --------
    >>> import pandas as pd
    >>> from racecast.rules import Plurality, Threshold
    >>> round(final_margin(Plurality(), pd.Series({"A": 52, "B": 48})), 3)
    0.04
    >>> round(final_margin(Threshold("2/3", yes="Y", no="N"), pd.Series({"Y": 70, "N": 30})), 3)
    0.067
    """
    v = final_votes.to_numpy(dtype=float)
    total = v.sum()
    if total <= 0:
        return float("nan")
    if isinstance(rule, Threshold):
        yes, no = float(final_votes[rule.yes]), float(final_votes[rule.no])
        return 2 * abs(yes / (yes + no) - float(rule.share)) if yes + no > 0 else float("nan")
    shares = np.sort(v / total)[::-1]
    if isinstance(rule, Majority):
        return 2 * abs(float(shares[0]) - float(rule.threshold))
    n = _winners(rule) or 1
    return float(shares[n - 1] - shares[n]) if len(shares) > n else 1.0


def _pit(fc: Any, truth: np.ndarray) -> np.ndarray:
    """PIT of each candidate's final share among the forecast's simulated shares (``nan`` without draws)."""
    draws = getattr(fc, "final_draws", None)
    if draws is None:
        return np.full(len(truth), np.nan)
    keep = getattr(getattr(fc, "rule_result", None), "kept_draws", None)
    draws = np.asarray(draws if keep is None else draws[keep], dtype=float)
    tot = draws.sum(axis=1, keepdims=True)
    shares = draws / np.where(tot > 0, tot, 1)
    below = (shares < truth[None, :]).mean(axis=0)
    equal = (shares == truth[None, :]).mean(axis=0)
    return np.asarray(below + 0.5 * equal, dtype=float)


def _replay_rule(rp: Replay, rule: Rule | None) -> Rule:
    if rule is not None:
        return rule
    found = next((getattr(fc, "rule", None) for fc in rp.forecasts if fc is not None), None)
    return found if isinstance(found, Rule) else Plurality()


def calibration_rows(replay: Replay, *, rule: Rule | None = None, contest: str | None = None) -> pd.DataFrame:
    """One row per (forecast release, candidate) of a replay, held against its final result.

    Parameters
    ----------
    replay
        A replay ([`replay`][racecast.replay]); releases without a forecast are left out.
    rule
        The contest's rule (default: the rule the replay's forecasts used, else plurality).
    contest
        Name in the ``contest`` column (default: the count's name).

    Returns
    -------
    pandas.DataFrame
        Columns ``contest``, ``release``, ``candidate``, ``probability``,
        ``outcome``, ``lower``, ``median``, ``upper``, ``final_share``,
        ``covered``, ``width``, ``pit`` (``nan`` when the replay kept no
        simulated draws), ``outstanding``, ``stage``, ``margin`` and ``rule``
        (defined in the module docstring).
    """
    the_rule = _replay_rule(replay, rule)
    final = replay.final_votes
    cands = list(final.index)
    truth = (final / final.sum()).to_numpy(dtype=float) if final.sum() > 0 else np.zeros(len(final))
    happened = outcomes(the_rule, final).to_numpy()
    margin = final_margin(the_rule, final)
    position = {r: i for i, r in enumerate(replay.count.release_ids)}
    rows: list[pd.DataFrame] = []
    for k in replay.forecast_rows:
        t = replay.table.loc[k]
        counted = float(replay.count.votes[position[k]].sum())
        fc = replay.forecasts[position[k]]
        lo, hi = t["final_share_lower"][cands].to_numpy(float), t["final_share_upper"][cands].to_numpy(float)
        rows.append(
            pd.DataFrame(
                {
                    "contest": contest or replay.count.name,
                    "release": k,
                    "candidate": cands,
                    "probability": t["win_probability"][cands].to_numpy(float),
                    "outcome": happened,
                    "lower": lo,
                    "median": t["final_share_median"][cands].to_numpy(float),
                    "upper": hi,
                    "final_share": truth,
                    "covered": (lo <= truth) & (truth <= hi),
                    "width": hi - lo,
                    "pit": _pit(fc, truth),
                    "outstanding": 1.0 - counted / float(final.sum()) if final.sum() > 0 else np.nan,
                    "margin": margin,
                    "rule": the_rule.name,
                }
            )
        )
    if not rows:
        return pd.DataFrame(columns=_ROW_COLUMNS)
    out = pd.concat(rows, ignore_index=True)
    out["stage"] = stage_of(out["outstanding"])
    return out[_ROW_COLUMNS]


def stage_of(outstanding: pd.Series | Sequence[float]) -> pd.Series:
    """The stage label ([`STAGES`][racecast.evaluation.calibration.STAGES]) of each outstanding share."""
    s = pd.Series(outstanding, dtype=float)
    labels = pd.Series("", index=s.index, dtype=object)
    for label, lo, hi in STAGES:
        labels[(s >= lo) & (s < hi)] = label
    return labels


def _key(rows: pd.DataFrame) -> list[str]:
    return [c for c in FORECAST_KEY if c in rows.columns]


def _groups(by: str | Sequence[str] | None) -> list[str]:
    return [] if by is None else [by] if isinstance(by, str) else list(by)


def _per_forecast(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per forecast: its Brier score and whether it made a confident wrong call."""
    sq = (rows["probability"] - rows["outcome"]) ** 2
    wrong = (rows["probability"] >= 0.95) & (rows["outcome"] == 0)
    keys = _key(rows)
    extra = [c for c in rows.columns if c not in keys and c in ("stage", "margin", "competitive", "group")]
    frame = rows[keys + extra].assign(sq=sq, wrong=wrong)
    agg = {"sq": "sum", "wrong": "any", **dict.fromkeys(extra, "first")}
    return frame.groupby(keys, sort=False).agg(agg).rename(columns={"sq": "brier"}).reset_index()


def _aggregate(rows: pd.DataFrame) -> dict[str, Any]:
    per = _per_forecast(rows)
    pit = rows["pit"].dropna()
    return {
        "forecasts": len(per),
        "intervals": len(rows),
        "coverage": float(rows["covered"].mean()) if len(rows) else np.nan,
        "width": float(rows["width"].mean()) if len(rows) else np.nan,
        "brier": float(per["brier"].mean()) if len(per) else np.nan,
        "wrong_calls": int(per["wrong"].sum()),
        "pit_below_5": float((pit < 0.05).mean()) if len(pit) else np.nan,
        "pit_above_95": float((pit > 0.95).mean()) if len(pit) else np.nan,
    }


def summary(rows: pd.DataFrame, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Forecasts, intervals, coverage, mean width, Brier, confident wrong calls and PIT tails.

    ``pit_below_5`` and ``pit_above_95`` are the shares of PIT values in each 5%
    tail (each 0.05 when calibrated); ``by`` groups the rows (e.g. ``"dataset"``).
    """
    groups = _groups(by)
    if not groups:
        return pd.DataFrame([_aggregate(rows)])
    out = [
        {**dict(zip(groups, k if isinstance(k, tuple) else (k,), strict=True)), **_aggregate(g)}
        for k, g in rows.groupby(groups, sort=False)
    ]
    return pd.DataFrame(out)


def coverage_by_stage(rows: pd.DataFrame, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """[`summary`][racecast.evaluation.calibration.summary] per stage of the count, plus an ``all`` row.

    Stages with no rows are left out; ``by`` adds grouping columns in front.
    """
    groups = _groups(by)
    parts = []
    for key, g in rows.groupby(groups, sort=False) if groups else [((), rows)]:
        head = dict(zip(groups, key if isinstance(key, tuple) else (key,), strict=True))
        for label, *_ in STAGES:
            sub = g[g["stage"] == label]
            if len(sub):
                parts.append({**head, "stage": label, **_aggregate(sub)})
        parts.append({**head, "stage": "all", **_aggregate(g)})
    return pd.DataFrame(parts)


def _bin_labels(edges: Sequence[float], fmt: str) -> list[str]:
    return [f"{fmt.format(a)}-{fmt.format(b)}" for a, b in itertools.pairwise(edges)]


def reliability_table(
    rows: pd.DataFrame, bins: Sequence[float] = PROBABILITY_BINS, by: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """Forecast probability, binned, against how often the event happened.

    Every row (candidate in a forecast) counts once; bins are ``[a, b)``, the
    last one ``[a, 1]``.  Columns: ``bin``, ``n``, ``mean_probability``,
    ``observed`` (share of events that happened) and ``events``.
    """
    groups = _groups(by)
    labels = _bin_labels(bins, "{:g}")
    idx = np.clip(
        np.searchsorted(np.asarray(bins), rows["probability"].to_numpy(float), side="right") - 1,
        0,
        len(labels) - 1,
    )
    frame = rows[groups].assign(
        bin=pd.Categorical.from_codes(idx, labels), p=rows["probability"], o=rows["outcome"]
    )
    out = (
        frame.groupby([*groups, "bin"], sort=False, observed=True)
        .agg(n=("p", "size"), mean_probability=("p", "mean"), observed=("o", "mean"), events=("o", "sum"))
        .reset_index()
    )
    out["bin"] = pd.Categorical(out["bin"], categories=labels, ordered=True)
    return out.sort_values([*groups, "bin"], kind="stable").reset_index(drop=True)


def width_vs_coverage(
    rows: pd.DataFrame, bins: Sequence[float] = WIDTH_BINS, by: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """Coverage of intervals binned by width (0-1 scale, ``[a, b)``).

    Columns ``bin``, ``n``, ``mean_width``, ``coverage``; ``by`` groups the rows.
    """
    groups = _groups(by)
    labels = [
        f"{100 * a:g}-{100 * b:g} pts" if np.isfinite(b) else f">= {100 * a:g} pts"
        for a, b in itertools.pairwise(bins)
    ]
    idx = np.clip(
        np.searchsorted(np.asarray(bins), rows["width"].to_numpy(float), side="right") - 1, 0, len(labels) - 1
    )
    frame = rows[groups].assign(
        bin=pd.Categorical.from_codes(idx, labels), c=rows["covered"], w=rows["width"]
    )
    out = (
        frame.groupby([*groups, "bin"], sort=False, observed=True)
        .agg(n=("c", "size"), mean_width=("w", "mean"), coverage=("c", "mean"))
        .reset_index()
    )
    out["bin"] = pd.Categorical(out["bin"], categories=labels, ordered=True)
    return out.sort_values([*groups, "bin"], kind="stable").reset_index(drop=True)


def pit_histogram(rows: pd.DataFrame, bins: int = 10, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Share of PIT values in each of ``bins`` equal bins of [0, 1] (rows without PIT left out).

    Columns: ``bin`` (e.g. ``0.0-0.1``), ``n`` and ``share`` (``1 / bins`` each when calibrated).
    """
    groups = _groups(by)
    sub = rows[rows["pit"].notna()]
    edges = np.linspace(0.0, 1.0, bins + 1)
    labels = _bin_labels(edges.tolist(), "{:.1f}" if bins <= 10 else "{:.2f}")
    idx = np.clip((sub["pit"].to_numpy(float) * bins).astype(int), 0, bins - 1)
    frame = sub[groups].assign(bin=pd.Categorical.from_codes(idx, labels))
    counts = frame.groupby([*groups, "bin"], sort=False, observed=False).size().rename("n").reset_index()
    totals = counts.groupby(groups)["n"].transform("sum") if groups else counts["n"].sum()
    counts["share"] = counts["n"] / totals
    return counts.sort_values([*groups, "bin"], kind="stable").reset_index(drop=True)


def brier(rows: pd.DataFrame) -> float:
    """Mean over forecasts of ``sum_c (p_c - outcome_c)^2`` (see the module docstring)."""
    return float(_per_forecast(rows)["brier"].mean())


def confident_wrong_calls(rows: pd.DataFrame, threshold: float = 0.95) -> pd.DataFrame:
    """Rows where a candidate's probability was ``>= threshold`` and its event did not happen."""
    wrong = rows[(rows["probability"] >= threshold) & (rows["outcome"] == 0)]
    return wrong.reset_index(drop=True)


def competitive(rows: pd.DataFrame, margin: float = COMPETITIVE_MARGIN) -> pd.DataFrame:
    """The rows of contests whose final margin is below ``margin`` (share points)."""
    return rows[rows["margin"] < margin]
