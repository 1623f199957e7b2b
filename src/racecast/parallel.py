"""Many contests at once: [`forecast_many`][racecast.forecast_many] on every core, or on a Dask cluster.

A county ballot has hundreds of contests and a newsroom reruns all of them after
every release.  [`forecast_many`][racecast.forecast_many] runs
[`forecast`][racecast.forecast] for each count and returns one tidy table, read off
each forecast's table ([`Forecast.table`][racecast.Forecast.table]).  Contests are independent, so they
are spread over one ``concurrent.futures.Executor``: a process pool (all cores by
default), a ``dask.distributed`` client's executor (a cluster of any size), or any
executor you pass.  Each contest's seed is derived from ``seed`` and its position,
so the table is the same however the contests are scheduled: serial, pooled or
distributed.
"""

from __future__ import annotations

import dataclasses
import os
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._progress import ProgressBar
from .count import Count
from .errors import ForecastInputError, RacecastWarning
from .pipeline import forecast
from .report import candidate_columns
from .settings import DEFAULT_ENGINE, Engine, ForecastSettings, NutsSettings

__all__ = ["COLUMNS", "Backend", "ContestOutcome", "forecast_many", "open_backend", "run_contests"]

#: Columns of the table [`forecast_many`][racecast.forecast_many] returns, one row per contest and candidate.
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
#: The columns read off each forecast's table; ``releases``, ``seconds`` and ``error`` are added here.
_FROM_TABLE = ("contest", "candidate", *COLUMNS[:-3])


@dataclass(frozen=True)
class _Task:
    """One contest to forecast (picklable: it travels to worker processes)."""

    position: int
    name: str
    count: Count
    seed: int
    rule: Any = None  # this contest's own rule (a Rule or a shortcut), instead of forecast_kwargs' rule=


@dataclass(frozen=True)
class ContestOutcome:
    """What a worker sends back for one contest: a few numbers per candidate, never the draws.

    ``rows`` are the contest's rows of the [`forecast_many`][racecast.forecast_many]
    table, ``warnings`` the ``(category, message)`` of each warning its forecast
    raised, ``error`` the exception that stopped it (``rows`` then empty).
    """

    position: int
    name: str
    rows: list[dict[str, Any]]
    warnings: list[tuple[type[Warning], str]]
    error: BaseException | None


def _run_one(task: _Task, kwargs: dict[str, Any]) -> ContestOutcome:
    start = time.perf_counter()
    if task.rule is not None:
        kwargs = {**kwargs, "rule": task.rule}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fc = forecast(task.count, seed=task.seed, **kwargs)
        except Exception as exc:  # reported per contest (errors="record") or re-raised
            return ContestOutcome(task.position, task.name, [], [], exc)
    seconds = time.perf_counter() - start
    columns = candidate_columns(fc)
    extra = {"contest": task.name, "releases": len(task.count), "seconds": seconds, "error": None}
    rows = [
        {k: extra[k] if k in extra else columns[k][i] for k in (*_FROM_TABLE, *COLUMNS[-3:])}
        for i in range(len(columns["candidate"]))
    ]
    caught_warnings = [(w.category, str(w.message)) for w in caught]
    return ContestOutcome(task.position, task.name, rows, caught_warnings, None)


def _run_chunk(tasks: list[_Task], kwargs: dict[str, Any]) -> list[ContestOutcome]:
    return [_run_one(t, kwargs) for t in tasks]


def _limit_blas_threads() -> None:
    """Worker processes share the cores: one BLAS thread each."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with PyMC
        return
    threadpool_limits(1)


def _one_nuts_core(nuts: Any) -> Any:
    """NUTS settings that run one chain at a time (a worker shares the cores), unless ``cores`` was given."""
    if nuts is None:
        return {"cores": 1}
    if isinstance(nuts, NutsSettings) and nuts.cores is None:
        return dataclasses.replace(nuts, cores=1)
    if isinstance(nuts, Mapping) and nuts.get("cores") is None:
        return {**nuts, "cores": 1}
    return nuts


class _InProcess(Executor):
    """An executor that runs each call in this process when it is submitted (``processes=1``)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future, as any executor does
            future.set_exception(exc)
        return future


@dataclass(frozen=True)
class Backend:
    """Where the contests run: an executor, how many contests it runs at once, and whether in this process."""

    executor: Executor
    workers: int
    in_process: bool = False


@contextmanager
def open_backend(
    processes: int | None, client: Any, executor: Executor | None, n_tasks: int
) -> Iterator[Backend]:
    """The executor the contests run on; shut down afterwards when it was made here."""
    if executor is not None:
        yield Backend(executor, processes or os.cpu_count() or 1)
    elif client is not None:
        dask = client.get_executor(pure=False)
        try:
            yield Backend(dask, max(1, sum(client.nthreads().values())))
        finally:
            dask.shutdown(wait=False)  # cancels what is still running (after a failure)
    else:
        n_proc = min(processes if processes is not None else (os.cpu_count() or 1), n_tasks)
        if n_proc <= 1:
            yield Backend(_InProcess(), 1, in_process=True)
            return
        pool = ProcessPoolExecutor(max_workers=n_proc, initializer=_limit_blas_threads)
        try:
            yield Backend(pool, n_proc)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _named(counts: Mapping[str, Count] | Iterable[Count]) -> list[tuple[str, Count]]:
    if isinstance(counts, Mapping):
        items = [(str(k), v) for k, v in counts.items()]
    elif isinstance(counts, Count):
        raise ForecastInputError(
            "forecast_many() takes several counts (a list or a dict); use forecast() for one"
        )
    else:
        items = [(c.name if isinstance(c, Count) else "", c) for c in counts]
        names = [n for n, _ in items]
        if len(set(names)) < len(names):  # several counts read from one file name: number them
            items = [(f"{n} [{i}]", c) for i, (n, c) in enumerate(items)]
    for name, c in items:
        if not isinstance(c, Count):
            raise ForecastInputError(
                f"forecast_many(): contest {name!r} is a {type(c).__name__}, not a racecast.Count"
            )
    return items


def forecast_many(
    counts: Mapping[str, Count] | Iterable[Count],
    *,
    seed: int | None = None,
    engine: Engine = DEFAULT_ENGINE,
    processes: int | None = None,
    client: Any = None,
    executor: Executor | None = None,
    progress: bool = True,
    errors: Literal["raise", "record"] = "record",
    chunksize: int | None = None,
    **forecast_kwargs: Any,
) -> pd.DataFrame:
    """Forecast many contests at once, on all cores or on a Dask cluster.

    Parameters
    ----------
    counts
        The contests: a mapping ``{name: Count}`` or a list of counts (named by
        ``Count.name``).
    seed
        Seed of the whole run; contest ``i`` gets its own seed derived from it,
        so the result does not depend on how contests are scheduled.
    engine
        ``"fast"`` or ``"nuts"`` (default: ``settings.DEFAULT_ENGINE``, as for
        [`forecast`][racecast.forecast]).
    processes
        Worker processes (default: every core).  ``1`` runs in this process.
        Ignored when ``client`` is given; with ``executor``, only sets the chunk size.
    client
        A ``dask.distributed.Client``: contests run on its cluster (through
        ``client.get_executor()``) instead of a local process pool (racecast must
        be installed on its workers).
    executor
        Any ``concurrent.futures.Executor`` to run the contests on (it is not shut
        down here); instead of ``processes`` and ``client``.
    progress
        Show a progress bar on stderr (one line redrawn in place, in a terminal
        or a Jupyter notebook).
    errors
        ``"record"`` (default): a contest that fails gets one row with the error
        (its class and message) in ``error`` and ``NaN`` numbers, the others go on,
        and a warning says how many failed -- one bad contest never stops a ballot.
        ``"raise"``: the first contest that fails stops the run with its error,
        noting which contest it was.
    chunksize
        Contests sent to a worker at a time (default: about sixteen chunks per worker, so that
        workers finish together).
    **forecast_kwargs
        Passed to [`forecast`][racecast.forecast] for every contest (``draws``,
        ``rule``, ``interval``, ``outstanding_sd``, ``priors``, ``nuts``, ...).  On
        worker processes NUTS runs one chain at a time unless ``nuts`` sets ``cores``.

    Returns
    -------
    pandas.DataFrame
        One row per contest and candidate (index ``contest``, ``candidate``), in
        the order given, with columns ``votes`` (counted so far),
        ``win_probability`` (the rule's headline probability),
        ``final_share_median``/``_lower``/``_upper`` (the forecast interval),
        ``leader`` (leads now), ``lead_change_probability`` -- named as in the
        forecast's table ([`Forecast.table`][racecast.Forecast.table]) --, ``releases``, ``seconds`` (time
        to forecast the contest) and ``error`` (``racecast.parallel.COLUMNS``).
        ``attrs`` holds the settings.  Warnings raised while forecasting a contest
        are re-issued here, as [`forecast`][racecast.forecast] would.

    Examples
    --------
    >>> import racecast
    >>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    >>> table = racecast.forecast_many({f"after {k}": count[:k] for k in (4, 9)}, seed=1, processes=1,
    ...                                progress=False)
    >>> bool(table.loc[("after 9", "Karen Bass"), "win_probability"] > 0.99)
    True
    """
    ForecastSettings.validate(engine=engine)
    if errors not in ("raise", "record"):
        raise ForecastInputError(f"errors must be 'raise' or 'record', got {errors!r}")
    if "count" in forecast_kwargs:
        raise ForecastInputError("forecast_many() takes the counts as its first argument, not count=")
    if processes is not None and processes < 1:
        raise ForecastInputError(f"processes must be >= 1, got {processes!r}")
    if client is not None and executor is not None:
        raise ForecastInputError("forecast_many(): give client= or executor=, not both")
    kwargs = {"engine": engine, **forecast_kwargs}
    contests = [(name, c, None) for name, c in _named(counts)]
    where = {"processes": processes, "client": client, "executor": executor, "chunksize": chunksize}
    return _table(
        run_contests(contests, kwargs, seed=seed, progress=progress, errors=errors, **where), kwargs
    )


def run_contests(
    contests: list[tuple[str, Count, Any]],
    kwargs: dict[str, Any],
    *,
    seed: int | None,
    backend: Backend | None = None,
    **options: Any,
) -> list[ContestOutcome]:
    """Forecast ``(name, count, rule or None)`` contests, one outcome each in the order given.

    The engine of [`forecast_many`][racecast.forecast_many] and ``forecast_ballot``:
    contest ``i`` gets the ``i``-th seed derived from ``seed`` and its own rule when
    one is given (else ``kwargs``' ``rule``).  ``options`` are ``forecast_many``'s
    ``processes``, ``client``, ``executor``, ``chunksize``, ``errors`` and
    ``progress`` (``True``, ``False`` or the progress bar's label); ``backend`` is one
    already opened by the caller with ``open_backend`` (then
    ``processes``, ``client`` and ``executor`` are not needed).
    """
    seeds = np.random.SeedSequence(seed).generate_state(len(contests), dtype=np.uint32)
    tasks = [_Task(i, n, c, int(s), r) for i, ((n, c, r), s) in enumerate(zip(contests, seeds, strict=True))]
    progress = options["progress"]
    bar = ProgressBar(len(tasks), bool(progress), progress if isinstance(progress, str) else "forecast_many")
    opened = (
        nullcontext(backend)
        if backend is not None
        else open_backend(options["processes"], options["client"], options["executor"], len(tasks))
    )
    with opened as running:
        outcomes = _run(running, tasks, kwargs, bar, options["chunksize"], options["errors"])
    return sorted(outcomes, key=lambda o: o.position)


def _fail_fast(outcome: ContestOutcome, errors: str) -> ContestOutcome:
    """With ``errors="raise"``, stop at the first contest that failed, naming it."""
    if outcome.error is not None and errors == "raise":
        outcome.error.add_note(f"while forecasting contest {outcome.name!r} in forecast_many()")
        raise outcome.error
    return outcome


def _chunks(tasks: list[_Task], size: int) -> Iterator[list[_Task]]:
    for i in range(0, len(tasks), size):
        yield tasks[i : i + size]


def _run(
    backend: Backend,
    tasks: list[_Task],
    kwargs: dict[str, Any],
    bar: ProgressBar,
    chunksize: int | None,
    errors: str,
) -> list[ContestOutcome]:
    """Every contest's outcome, chunks submitted to the backend's executor as workers free up.

    In this process one contest runs at a time (so a failure stops the run at
    once); elsewhere each worker gets about sixteen chunks (small ones, so that no worker
    is left with a long tail) and two are kept in flight
    per worker, NUTS running one chain at a time.
    """
    if backend.in_process:
        size, window = 1, 1
    else:
        size = chunksize or max(1, int(np.ceil(len(tasks) / (16 * backend.workers))))
        window = 2 * backend.workers
        kwargs = {**kwargs, "nuts": _one_nuts_core(kwargs.get("nuts"))}
    chunks = _chunks(tasks, size)
    pending: set[Future[list[ContestOutcome]]] = set()
    outcomes: list[ContestOutcome] = []
    try:
        while True:
            for chunk in chunks:
                pending.add(backend.executor.submit(_run_chunk, chunk, kwargs))
                if len(pending) >= window:
                    break
            if not pending:
                return outcomes
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                got = [_fail_fast(o, errors) for o in fut.result()]
                outcomes.extend(got)
                bar.update(len(got))
    finally:
        for fut in pending:
            fut.cancel()


def _table(outcomes: list[ContestOutcome], kwargs: dict[str, Any]) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    failed = []
    for o in outcomes:
        for category, message in o.warnings:
            warnings.warn(message, category, stacklevel=3)
        if o.error is not None:
            failed.append(o.name)
            rows.append(
                {"contest": o.name, "candidate": None, "error": f"{type(o.error).__name__}: {o.error}"}
            )
        rows.extend(o.rows)
    table = pd.DataFrame(rows, columns=["contest", "candidate", *COLUMNS]).set_index(["contest", "candidate"])
    table.attrs["settings"] = {k: v for k, v in kwargs.items() if isinstance(v, (str, int, float, bool))}
    if failed:
        warnings.warn(
            f"forecast_many(): {len(failed)} of {len(outcomes)} contests failed ({', '.join(failed[:5])}"
            f"{', ...' if len(failed) > 5 else ''}); see the 'error' column",
            RacecastWarning,
            stacklevel=3,
        )
    return table
