"""Replay a whole ballot release by release and hold every forecast against the final release.

[`replay_ballot`][racecast.evaluation.ballot_replay.replay_ballot] replays each
contest of a [`Ballot`][racecast.Ballot] with [`replay`][racecast.replay]: the
forecast after release ``k = 1 .. n-1`` sees the contest as it stood then
(``ballot.contest(name)[:k]``, with the jurisdiction's ballots counted and
outstanding estimates published by then) and is scored against release ``n``.
Each contest is forecast under its own rule ([`Ballot.rule`][racecast.Ballot.rule]),
so seats contests are scored on P(seat) and measures on P(pass)/P(fail).
Uncontested contests are not scored, nor are releases before a contest's first
votes (no forecast can be made then).  The rows are the
[`calibration_rows`][racecast.evaluation.calibration.calibration_rows] of every
contest, ready for the tables of [`racecast.evaluation.calibration`][].

Examples
--------
>>> import warnings, racecast
>>> from racecast.evaluation.ballot_replay import replay_ballot
>>> ballot = racecast.read_ballot(racecast.example_path("la_county_2022"))
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore", racecast.RacecastWarning)
...     br = replay_ballot(ballot, contests=["SHERIFF"], seed=1, draws=500)
>>> br.contests.loc["SHERIFF", "status"], int(br.contests.loc["SHERIFF", "forecasts"])
('scored', 13)
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..ballot import Ballot, is_uncontested
from ..count import Count
from ..errors import ForecastInputError
from ..model import Priors
from ..pipeline import forecast
from ..rules import Rule
from ..settings import Engine
from ..shared_scales import share_scales
from .calibration import _ROW_COLUMNS, COMPETITIVE_MARGIN, calibration_rows, final_margin
from .replay import replay

__all__ = ["BallotReplay", "replay_ballot"]

STATUSES = {
    "scored": "replayed; its forecasts are in the rows",
    "uncontested": "no more candidates than winners: certain, not scored",
    "no votes": "no votes in the final release: nothing to score",
    "no forecast": "replayed, but no release had a forecast (see the message)",
    "error": "the replay failed; the message says why (the other contests are not affected)",
}
"""Each status of a contest in
[`BallotReplay.contests`][racecast.evaluation.ballot_replay.BallotReplay], with its meaning."""


@dataclass(frozen=True, eq=False)
class BallotReplay:
    """A ballot replayed contest by contest.

    Made by [`replay_ballot`][racecast.evaluation.ballot_replay.replay_ballot].

    Attributes
    ----------
    rows : pandas.DataFrame
        The [`calibration_rows`][racecast.evaluation.calibration.calibration_rows]
        of every scored contest, plus ``competitive`` (final margin below
        [`COMPETITIVE_MARGIN`][racecast.evaluation.calibration.COMPETITIVE_MARGIN]).
    contests : pandas.DataFrame
        One row per contest (index ``contest``): ``rule``, ``status`` (one of
        ``STATUSES``), ``forecasts``, ``margin``, ``competitive``, ``seconds``
        and ``message``.
    settings : dict
        The seed, engine and forecast options of the replay.
    """

    rows: pd.DataFrame
    contests: pd.DataFrame
    settings: dict[str, Any]


@dataclass(frozen=True)
class _SharedScalesForecaster:
    """racecast's forecast, with the scales learned across the ballot as it stood at each release."""

    priors: dict[int, Priors]
    engine: Engine

    def __call__(self, count: Count, **kwargs: Any) -> Any:
        priors = self.priors[int(count.release_ids[-1])]
        return forecast(count, **{**kwargs, "engine": self.engine, "priors": priors})


def _shared_priors(ballot: Ballot, base: Priors | None, pool: Executor | None) -> dict[int, Priors]:
    """Release -> the priors learned across every contest of the ballot as it stood then."""
    out = {}
    for release in ballot.release_ids[:-1]:
        now = ballot.as_of(int(release))
        out[int(release)] = share_scales((now.contest(c) for c in now.contests), base, executor=pool).priors
    return out


def _replay_contest(
    name: str, count: Count, rule: Rule, seed: int, kwargs: dict[str, Any]
) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    """One contest's calibration rows (``None`` when not scored) and its ``contests`` row."""
    t0 = time.perf_counter()
    info: dict[str, Any] = {"contest": name, "rule": rule.name, "forecasts": 0, "message": ""}
    final = count.totals.astype(float)
    info["margin"] = final_margin(rule, final)
    if is_uncontested(rule, len(count.candidates)):
        return None, {**info, "status": "uncontested", "seconds": 0.0}
    if final.sum() <= 0:
        return None, {**info, "status": "no votes", "seconds": 0.0}
    rows = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rp = replay(count, rule=rule, seed=seed, progress=False, **kwargs)
        rows = calibration_rows(rp, rule=rule, contest=name)
        info["forecasts"] = int(rows["release"].nunique())
        info["status"] = "scored" if len(rows) else "no forecast"
        if not len(rows):
            info["message"] = str(rp.table["note"].iloc[-1])
    except Exception as exc:  # one contest's failure never stops the others
        info.update(status="error", message=f"{type(exc).__name__}: {exc}")
    info["seconds"] = time.perf_counter() - t0
    return rows, info


def _replay_task(
    task: tuple[str, Count, Rule, int, dict[str, Any]],
) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    return _replay_contest(*task)


def replay_ballot(
    ballot: Ballot,
    *,
    contests: Sequence[str] | None = None,
    seed: int | None = None,
    engine: Engine = "fast",
    processes: int = 1,
    shared_scales: bool = False,
    **forecast_kwargs: Any,
) -> BallotReplay:
    """Replay every contest of a ballot against its final release.

    Parameters
    ----------
    ballot
        A finished ballot ([`read_ballot`][racecast.read_ballot]); its last
        release is the truth.
    contests
        Replay only these contests (default: all, in ballot order).
    seed
        Seed of the whole replay (default: fresh); contest ``i`` is replayed with
        the ``i``-th seed derived from it, whatever ``processes`` is.
    engine
        Engine of every forecast (default ``"fast"``: a ballot is thousands of forecasts).
    processes
        Worker processes (1: in this process).
    shared_scales
        Learn the model's scales across every contest of the ballot as it stood after
        each release ([`share_scales`][racecast.share_scales]) and forecast each
        contest with them, instead of one contest at a time.
    **forecast_kwargs
        Passed to every forecast (e.g. ``draws``); not ``rule``, which comes from the ballot.

    Returns
    -------
    BallotReplay
    """
    if "rule" in forecast_kwargs or "seats" in forecast_kwargs:
        raise ForecastInputError("replay_ballot() takes each contest's rule from the ballot; no rule=/seats=")
    if processes < 1:
        raise ForecastInputError(f"processes must be >= 1, got {processes!r}")
    names = list(ballot.contests if contests is None else contests)
    entropy = int(np.random.SeedSequence(seed).entropy)  # type: ignore[arg-type]
    seeds = np.random.SeedSequence(entropy).generate_state(len(names), dtype=np.uint32)
    kwargs: dict[str, Any] = {"engine": engine, **forecast_kwargs}
    with ProcessPoolExecutor(processes) if processes > 1 else nullcontext() as pool:
        if shared_scales:  # learned on the same pool, then every contest forecast with them
            priors = _shared_priors(ballot, kwargs.pop("priors", None), pool)
            kwargs = {k: v for k, v in kwargs.items() if k != "engine"}
            kwargs["forecaster"] = _SharedScalesForecaster(priors, engine)
        tasks = [
            (n, ballot.contest(n), ballot.rule(n), int(s), kwargs) for n, s in zip(names, seeds, strict=True)
        ]
        if pool is None:
            results = [_replay_task(t) for t in tasks]
        else:
            results = list(pool.map(_replay_task, tasks, chunksize=max(1, len(tasks) // (8 * processes))))
    frames = [r for r, _ in results if r is not None and len(r)]
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=_ROW_COLUMNS)
    rows["competitive"] = rows["margin"] < COMPETITIVE_MARGIN
    table = pd.DataFrame([info for _, info in results]).set_index("contest")
    table["competitive"] = table["margin"] < COMPETITIVE_MARGIN
    cols = ["rule", "status", "forecasts", "margin", "competitive", "seconds", "message"]
    settings = {"seed": entropy, "engine": engine, "shared_scales": shared_scales, **forecast_kwargs}
    return BallotReplay(rows=rows, contests=table[cols], settings=settings)
