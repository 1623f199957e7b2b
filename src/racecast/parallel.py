"""Many contests at once: :func:`forecast_many` on every core, or on a Dask cluster.

A county ballot has hundreds of contests and a newsroom reruns all of them after
every release.  :func:`forecast_many` runs :func:`racecast.forecast` for each
count and returns one tidy table.  Contests are independent, so they are spread
over a process pool (all cores by default) or, with ``client=``, over a
``dask.distributed`` cluster of any size.  Each contest's seed is derived from
``seed`` and its position, so the table is the same however the contests are
scheduled: serial, pooled or distributed.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Literal, TextIO

import numpy as np
import pandas as pd

from .count import Count
from .errors import ForecastInputError
from .pipeline import forecast

__all__ = ["forecast_many"]

#: Columns of the table :func:`forecast_many` returns, one row per contest and candidate.
COLUMNS = (
    "votes",
    "win_probability",
    "final_share_median",
    "final_share_lower",
    "final_share_upper",
    "leader",
    "lead_change_probability",
    "releases",
    "seconds",
    "error",
)


@dataclass(frozen=True)
class _Task:
    """One contest to forecast (picklable: it travels to worker processes)."""

    position: int
    name: str
    count: Count
    seed: int


@dataclass(frozen=True)
class _Outcome:
    """What a worker sends back: a few numbers per candidate, never the draws."""

    position: int
    name: str
    rows: list[dict[str, Any]]
    warnings: list[tuple[type[Warning], str]]
    error: BaseException | None


def _run_one(task: _Task, kwargs: dict[str, Any]) -> _Outcome:
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fc = forecast(task.count, seed=task.seed, **kwargs)
        except Exception as exc:  # noqa: BLE001 - reported per contest (errors="record") or re-raised
            return _Outcome(task.position, task.name, [], [], exc)
    seconds = time.perf_counter() - start
    share = fc.final_share[["median", "lower", "upper"]].to_numpy()
    wp = fc.win_probability.to_numpy()
    votes = fc.count.votes[-1]
    leader, lcp = fc.leader, fc.lead_change_probability
    rows = [
        {
            "contest": task.name,
            "candidate": c,
            "votes": int(votes[j]),
            "win_probability": float(wp[j]),
            "final_share_median": float(share[j, 0]),
            "final_share_lower": float(share[j, 1]),
            "final_share_upper": float(share[j, 2]),
            "leader": c == leader,
            "lead_change_probability": lcp,
            "releases": len(task.count),
            "seconds": seconds,
            "error": None,
        }
        for j, c in enumerate(fc.candidates)
    ]
    return _Outcome(task.position, task.name, rows, [(w.category, str(w.message)) for w in caught], None)


def _run_chunk(tasks: list[_Task], kwargs: dict[str, Any]) -> list[_Outcome]:
    return [_run_one(t, kwargs) for t in tasks]


def _init_worker() -> None:
    """Worker processes share the cores: one BLAS thread each (and one NUTS chain at a time: ``nuts={"cores": 1}``)."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl comes with PyMC
        pass


class _Progress:
    """A one-line text progress bar on a stream (stderr by default)."""

    def __init__(self, total: int, enabled: bool, stream: TextIO | None = None):
        self.total, self.done, self.enabled = total, 0, enabled and total > 0
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.perf_counter()
        self._draw()

    def update(self, n: int) -> None:
        self.done += n
        self._draw()

    def _draw(self) -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(width * self.done / self.total)
        elapsed = time.perf_counter() - self.start
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\rforecast_many [{bar}] {self.done}/{self.total} contests, {elapsed:.1f} s")
        if self.done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def _named(counts: Mapping[str, Count] | Iterable[Count]) -> list[tuple[str, Count]]:
    if isinstance(counts, Mapping):
        items = [(str(k), v) for k, v in counts.items()]
    elif isinstance(counts, Count):
        raise ForecastInputError("forecast_many() takes several counts (a list or a dict); use forecast() for one")
    else:
        items = [(c.name if isinstance(c, Count) else "", c) for c in counts]
        names = [n for n, _ in items]
        if len(set(names)) < len(names):  # several counts read from one file name: number them
            items = [(f"{n} [{i}]", c) for i, (n, c) in enumerate(items)]
    for name, c in items:
        if not isinstance(c, Count):
            raise ForecastInputError(f"forecast_many(): contest {name!r} is a {type(c).__name__}, not a racecast.Count")
    return items


def _chunks(tasks: list[_Task], size: int) -> Iterator[list[_Task]]:
    for i in range(0, len(tasks), size):
        yield tasks[i : i + size]


def forecast_many(
    counts: Mapping[str, Count] | Iterable[Count],
    *,
    seed: int | None = None,
    engine: Literal["nuts", "fast"] = "fast",
    processes: int | None = None,
    client: Any = None,
    progress: bool = True,
    errors: Literal["raise", "record"] = "raise",
    chunksize: int | None = None,
    **forecast_kwargs: Any,
) -> pd.DataFrame:
    """Forecast many contests at once, on all cores or on a Dask cluster.

    Parameters
    ----------
    counts
        The contests: a mapping ``{name: Count}`` or a list of counts (named by
        :attr:`Count.name <racecast.count.Count.name>`).
    seed
        Seed of the whole run; contest ``i`` gets its own seed derived from it,
        so the result does not depend on how contests are scheduled.
    engine
        ``"fast"`` (default here: a ballot of hundreds of contests) or ``"nuts"``.
    processes
        Worker processes (default: every core).  ``1`` runs in this process.
        Ignored when ``client`` is given.
    client
        A ``dask.distributed.Client``: contests run on its cluster instead of a
        local process pool (racecast must be installed on its workers).
    progress
        Show a progress bar on stderr.
    errors
        ``"raise"`` (default): a contest that fails stops the run with its error,
        noting which contest it was.  ``"record"``: the contest gets one row with
        the error message in ``error`` (and ``NaN`` numbers), and a warning says
        how many failed.
    chunksize
        Contests sent to a worker at a time (default: about four chunks per worker).
    **forecast_kwargs
        Passed to :func:`racecast.forecast` for every contest (``draws``, ``rule``,
        ``interval``, ``outstanding_sd``, ``priors``, ...).

    Returns
    -------
    pandas.DataFrame
        One row per contest and candidate (index ``contest``, ``candidate``), in
        the order given, with columns ``votes`` (counted so far),
        ``win_probability`` (the rule's headline probability),
        ``final_share_median``/``_lower``/``_upper`` (the forecast interval),
        ``leader`` (leads now), ``lead_change_probability``, ``releases``,
        ``seconds`` (time to forecast the contest) and ``error``.  ``attrs`` holds
        the settings.  Warnings raised while forecasting a contest are re-issued
        here, as :func:`racecast.forecast` would.

    Examples
    --------
    >>> import racecast
    >>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    >>> table = racecast.forecast_many({f"after {k}": count[:k] for k in (4, 9)}, seed=1, processes=1,
    ...                                progress=False)
    >>> table.loc[("after 9", "Karen Bass"), "win_probability"] > 0.99
    True
    """
    if engine not in ("nuts", "fast"):
        raise ForecastInputError(f"engine must be 'nuts' or 'fast', got {engine!r}")
    if errors not in ("raise", "record"):
        raise ForecastInputError(f"errors must be 'raise' or 'record', got {errors!r}")
    if "count" in forecast_kwargs:
        raise ForecastInputError("forecast_many() takes the counts as its first argument, not count=")
    items = _named(counts)
    seeds = np.random.SeedSequence(seed).generate_state(len(items), dtype=np.uint32) if items else []
    tasks = [_Task(i, name, c, int(s)) for i, ((name, c), s) in enumerate(zip(items, seeds))]
    kwargs = {"engine": engine, **forecast_kwargs}
    bar = _Progress(len(tasks), progress)
    if client is not None:
        outcomes = _on_dask(client, tasks, kwargs, bar, chunksize, errors)
    else:
        n_proc = processes if processes is not None else (os.cpu_count() or 1)
        if n_proc < 1:
            raise ForecastInputError(f"processes must be >= 1, got {processes!r}")
        n_proc = min(n_proc, len(tasks))
        if n_proc <= 1:
            outcomes = []
            for t in tasks:
                outcomes.append(_fail_fast(_run_one(t, kwargs), errors))
                bar.update(1)
        else:
            outcomes = _on_pool(n_proc, tasks, kwargs, bar, chunksize, errors)
    outcomes.sort(key=lambda o: o.position)
    return _table(outcomes, kwargs)


def _fail_fast(outcome: _Outcome, errors: str) -> _Outcome:
    """With ``errors="raise"``, stop at the first contest that failed, naming it."""
    if outcome.error is not None and errors == "raise":
        outcome.error.add_note(f"while forecasting contest {outcome.name!r} in forecast_many()")
        raise outcome.error
    return outcome


def _on_pool(n_proc: int, tasks: list[_Task], kwargs: dict[str, Any], bar: _Progress,
             chunksize: int | None, errors: str) -> list[_Outcome]:
    size = chunksize or max(1, int(np.ceil(len(tasks) / (4 * n_proc))))
    outcomes: list[_Outcome] = []
    pool = ProcessPoolExecutor(max_workers=n_proc, initializer=_init_worker)
    worker_kwargs = {"nuts": {"cores": 1}, **kwargs}  # the pool already fills the cores
    try:
        pending = {pool.submit(_run_chunk, chunk, worker_kwargs) for chunk in _chunks(tasks, size)}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                got = [_fail_fast(o, errors) for o in fut.result()]
                outcomes.extend(got)
                bar.update(len(got))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return outcomes


def _on_dask(client: Any, tasks: list[_Task], kwargs: dict[str, Any], bar: _Progress,
             chunksize: int | None, errors: str) -> list[_Outcome]:
    from distributed import as_completed

    n_workers = max(1, sum(client.nthreads().values()))
    size = chunksize or max(1, int(np.ceil(len(tasks) / (4 * n_workers))))
    futures = [client.submit(_run_chunk, chunk, kwargs, pure=False) for chunk in _chunks(tasks, size)]
    outcomes: list[_Outcome] = []
    try:
        for fut in as_completed(futures):
            got = [_fail_fast(o, errors) for o in fut.result()]
            outcomes.extend(got)
            bar.update(len(got))
    finally:
        client.cancel(futures)
    return outcomes


def _table(outcomes: list[_Outcome], kwargs: dict[str, Any]) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    failed = []
    for o in outcomes:
        for category, message in o.warnings:
            warnings.warn(message, category, stacklevel=3)
        if o.error is not None:
            failed.append(o.name)
            rows.append({"contest": o.name, "candidate": None, "error": f"{type(o.error).__name__}: {o.error}"})
        rows.extend(o.rows)
    table = pd.DataFrame(rows, columns=["contest", "candidate", *COLUMNS]).set_index(["contest", "candidate"])
    table.attrs["settings"] = {k: v for k, v in kwargs.items() if isinstance(v, (str, int, float, bool))}
    if failed:
        from .errors import RacecastWarning

        warnings.warn(
            f"forecast_many(): {len(failed)} of {len(outcomes)} contests failed ({', '.join(failed[:5])}"
            f"{', ...' if len(failed) > 5 else ''}); see the 'error' column",
            RacecastWarning,
            stacklevel=3,
        )
    return table
