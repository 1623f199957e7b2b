"""Replay a finished count release by release, as if the later releases did not exist.

:func:`replay` forecasts the count as it stood after each release ``k = 1 ..
n-1`` from ``count[:k]`` alone -- the votes, batch types and outstanding
estimates published up to release ``k`` -- and collects the forecasts in one
table.  :meth:`Replay.score` then holds them against the final result with the
functions of :mod:`racecast.scoring`; the same machinery replays the naive
forecasters of :mod:`racecast.baselines` (``forecaster="counted_split"``, ...),
so racecast and its baselines are scored identically.

Nothing of release ``k+1`` or later reaches the forecast of release ``k``: each
forecast sees a fresh ``count[:k]``, and its random seed depends only on the
replay's seed and ``k`` (so replaying ``count[:m]`` reproduces the first
``m - 1`` rows of replaying ``count``).

Examples
--------
>>> import racecast
>>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
>>> rp = racecast.replay(count, seed=1, progress=False)
>>> rp.table["leader"].tolist()[2:5]
['Rick Caruso', 'Rick Caruso', 'Karen Bass']
>>> rp.score().winner
'Karen Bass'
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import baselines as _baselines
from .count import Count
from .errors import ForecastInputError
from .pipeline import forecast as _forecast
from .scoring import LOG_LOSS_CLIP, Score, score_forecasts, winner_of

__all__ = ["replay", "Replay"]


#: What each row of :attr:`Replay.table` holds (first column level).
TABLE_QUANTITIES = (
    "released_at",
    "batch_type",
    "leader",
    "lead",
    "win_probability",
    "share_median",
    "share_lower",
    "share_upper",
    "lead_change_probability",
    "note",
)


@dataclass(frozen=True, eq=False)
class Replay:
    """A count replayed release by release.

    Produced by :func:`replay`.

    Attributes
    ----------
    count : Count
        The whole count that was replayed.
    final_votes : pandas.Series
        The final votes by candidate the forecasts are scored against.
    table : pandas.DataFrame
        One row per forecast release ``k = 1 .. n-1`` (index ``release``), with
        two column levels ``(quantity, candidate)``: ``released_at``,
        ``batch_type``, ``leader`` (most votes counted after release ``k``),
        ``lead`` (leader's votes minus the runner-up's), ``win_probability``,
        ``share_median``, ``share_lower``, ``share_upper`` (final-share interval)
        per candidate, ``lead_change_probability`` (P(the current leader does not
        finish first): the forecast's own when it has one, else 1 - P(leader wins)) and ``note`` (why no forecast was made, or the warnings the
        forecast raised).  Per-candidate quantities are selected with
        ``table["win_probability"]``; the others come out as Series.  Rows where
        no forecast could be made (e.g. no outstanding estimate yet) hold ``NaN``
        probabilities and say why in ``note``.
    forecasts : tuple
        The forecast object of each row (``None`` where none was made).
    forecaster : str
        ``"racecast"`` or the baseline's name (or the callable's name).
    settings : dict
        The keyword arguments passed to each forecast, and the replay's seed.
    """

    count: Count
    final_votes: pd.Series
    table: pd.DataFrame
    forecasts: tuple[Any, ...] = field(repr=False)
    forecaster: str
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def winner(self) -> Hashable:
        """The candidate with the most :attr:`final_votes`."""
        return winner_of(self.final_votes)

    @property
    def forecast_rows(self) -> pd.Index:
        """Releases for which a forecast was made."""
        return self.table.index[self.table["win_probability"].notna().all(axis=1).to_numpy()]

    def score(self, *, clip: float = LOG_LOSS_CLIP) -> Score:
        """Score the replayed forecasts against :attr:`final_votes`.

        Only releases with a forecast are scored (their number is
        ``Score.n_forecasts``; the others are listed in ``table["note"]``).
        ``called_95``/``called_99`` are release numbers; :meth:`called_at`
        gives their times.

        Parameters
        ----------
        clip
            Lower clip of the winner's probability in the log loss.

        Returns
        -------
        racecast.scoring.Score
        """
        rows = self.forecast_rows
        if len(rows) == 0:
            raise ForecastInputError(f"{self.count.name}: the replay made no forecast to score")
        t = self.table.loc[rows]
        return score_forecasts(
            t["win_probability"],
            final_votes=self.final_votes,
            share_lower=t["share_lower"],
            share_upper=t["share_upper"],
            clip=clip,
        )

    def called_at(self, threshold: float = 0.95) -> pd.Timestamp | None:
        """Release time from which P(eventual winner) stayed >= ``threshold`` (``None`` if never).

        Examples
        --------
        >>> import racecast
        >>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
        >>> racecast.replay(count, seed=1, progress=False).called_at(0.95).year
        2022
        """
        from .scoring import time_to_call

        rows = self.forecast_rows
        if len(rows) == 0:
            return None
        k = time_to_call(self.table.loc[rows, ("win_probability", self.winner)], threshold=threshold)
        if k is None:
            return None
        ts = self.table.loc[k, "released_at"]
        return None if pd.isna(ts) else pd.Timestamp(ts)

    def plot(self, **kwargs: Any) -> Any:
        """Win probability per release, with the running lead underneath.

        See :func:`racecast.plot.plot_replay` (needs matplotlib).
        """
        from .plot import plot_replay

        return plot_replay(self, **kwargs)

    def __repr__(self) -> str:
        n = len(self.forecast_rows)
        return (
            f"<Replay {self.count.name!r} by {self.forecaster}: {n} forecasts of {len(self.table)} releases>"
        )


def _resolve_forecaster(forecaster: str | Callable[..., Any]) -> tuple[str, Callable[..., Any]]:
    if callable(forecaster):
        return getattr(forecaster, "__name__", "custom"), forecaster
    if forecaster == "racecast":
        return "racecast", _forecast
    if forecaster in _baselines.BASELINES:
        return forecaster, _baselines.BASELINES[forecaster]
    raise ForecastInputError(
        f"unknown forecaster {forecaster!r}; use 'racecast', one of {list(_baselines.BASELINES)}, "
        "or a callable"
    )


def _final_votes(count: Count, final: Mapping[str, float] | pd.Series | None) -> pd.Series:
    if final is None:
        return count.totals.astype(float).rename("final_votes")
    s = pd.Series(final, dtype=float)
    missing = [c for c in count.candidates if c not in s.index]
    extra = [c for c in s.index if c not in count.candidates]
    if missing or extra:
        raise ForecastInputError(
            f"final must give votes for exactly the count's candidates {list(count.candidates)}; "
            f"missing {missing}, unknown {extra}"
        )
    s = s.reindex(list(count.candidates))
    if s.isna().any() or (s < 0).any():
        raise ForecastInputError("final votes must be non-negative numbers")
    s.index.name = "candidate"
    return s.rename("final_votes")


def _progress(total: int, label: str, enabled: bool | None):
    """A rich progress bar when enabled (default: when stderr is a terminal), else a no-op."""
    show = sys.stderr.isatty() if enabled is None else enabled
    if show:
        try:
            from rich.progress import Progress  # rich comes with pymc
        except ImportError:  # pragma: no cover - pymc depends on rich
            show = False
    if not show:

        class _Null:
            def __enter__(self):
                return self

            def __exit__(self, *exc: object) -> None:
                return None

            def advance(self) -> None:
                return None

        return _Null()

    class _Bar:
        def __enter__(self):
            self._p = Progress(transient=True)
            self._p.__enter__()
            self._task = self._p.add_task(label, total=total)
            return self

        def __exit__(self, *exc: object) -> None:
            self._p.__exit__(*exc)

        def advance(self) -> None:
            self._p.advance(self._task)

    return _Bar()


def replay(
    count: Count,
    *,
    final: Mapping[str, float] | pd.Series | None = None,
    forecaster: str | Callable[..., Any] = "racecast",
    seed: int | None = None,
    progress: bool | None = None,
    **forecast_kwargs: Any,
) -> Replay:
    """Forecast a count after each of its releases, using only what was known then.

    Parameters
    ----------
    count
        A finished (or far advanced) count.
    final
        Final votes by candidate to score against, when the count's last row is
        not the final result (e.g. certified totals); default: its last row.
    forecaster
        ``"racecast"`` (default), a baseline name (``"leader_wins"``,
        ``"counted_split"``, ``"last_release_split"``), or a callable
        ``f(count, **kwargs)`` returning an object with ``win_probability``
        (Series) and ``final_share`` (DataFrame with ``median``/``lower``/``upper``).
    seed
        Seed of the whole replay; release ``k`` is forecast with a seed derived
        from ``(seed, k)`` only.  ``None``: fresh randomness.
    progress
        Show a progress bar (rich); default: when stderr is a terminal.
    **forecast_kwargs
        Passed to every forecast (e.g. ``draws``, ``interval``, ``engine``).
        For racecast ``engine`` defaults to ``"fast"`` here.  ``remaining`` is
        refused: an override would apply one later estimate to every release.

    Returns
    -------
    Replay

    Raises
    ------
    ForecastInputError
        On a count of one release, a bad ``final``, or ``remaining=``.

    Examples
    --------
    >>> import racecast
    >>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    >>> rp = racecast.replay(count, forecaster="counted_split", progress=False)
    >>> rp.table.loc[3, "note"][:35]
    'forecast: Rick Caruso leads by 12,2'
    """
    if not isinstance(count, Count):
        raise ForecastInputError(f"replay() needs a racecast.Count, got {type(count).__name__}")
    if len(count) < 2:
        raise ForecastInputError(f"{count.name}: a replay needs at least two releases")
    if "remaining" in forecast_kwargs:
        raise ForecastInputError(
            "replay() uses the outstanding estimates each release published; remaining= would apply one "
            "estimate to every release (put per-release estimates in the count's outstanding_<type> columns)"
        )
    name, fn = _resolve_forecaster(forecaster)
    kwargs = dict(forecast_kwargs)
    if name == "racecast":
        kwargs.setdefault("engine", "fast")
    final_votes = _final_votes(count, final)
    cands = list(count.candidates)
    n = len(count)
    releases = count.release_ids[: n - 1]
    root = np.random.SeedSequence(seed)
    rows: list[dict[tuple[str, str], Any]] = []
    fcs: list[Any] = []
    caught: dict[type, list[str]] = {}
    with _progress(n - 1, f"replaying {count.name} ({name})", progress) as bar:
        for k in range(1, n):
            sub = count[:k]
            votes = sub.votes[-1]
            order = np.argsort(-votes, kind="stable")
            leader = cands[int(order[0])]
            row: dict[tuple[str, str], Any] = {
                ("released_at", ""): sub.released_at.iloc[-1],
                ("batch_type", ""): sub.release_batch_types[-1],
                ("leader", ""): leader,
                ("lead", ""): int(votes[order[0]] - votes[order[1]]),
            }
            rng_seed = np.random.SeedSequence(root.entropy, spawn_key=(k,)) if seed is not None else None
            call = dict(kwargs)
            call["seed"] = (
                np.random.default_rng(rng_seed) if rng_seed is not None else np.random.default_rng()
            )
            fc = None
            with warnings.catch_warnings(record=True) as got:
                warnings.simplefilter("always")
                try:
                    fc = fn(sub, **call)
                except ForecastInputError as exc:
                    note = f"no forecast: {exc}"
            msgs = []
            for w in got:
                caught.setdefault(w.category, []).append(str(w.message))
                msgs.append(f"{w.category.__name__}: {w.message}")
            if fc is not None:
                p = fc.win_probability.reindex(cands).astype(float)
                fs = fc.final_share.reindex(cands)
                for c in cands:
                    row[("win_probability", c)] = float(p[c])
                for q in ("median", "lower", "upper"):
                    for c in cands:
                        row[(f"share_{q}", c)] = float(fs.loc[c, q])
                lcp = getattr(fc, "lead_change_probability", None)  # racecast's, whatever the rule
                row[("lead_change_probability", "")] = float(1.0 - p[leader]) if lcp is None else float(lcp)
                note = f"forecast: {leader} leads by {row[('lead', '')]:,}"
            else:
                for q in ("win_probability", "share_median", "share_lower", "share_upper"):
                    for c in cands:
                        row[(q, c)] = np.nan
                row[("lead_change_probability", "")] = np.nan
            row[("note", "")] = "; ".join([note, *msgs])
            rows.append(row)
            fcs.append(fc)
            bar.advance()
    cols = [("released_at", ""), ("batch_type", ""), ("leader", ""), ("lead", "")]
    cols += [(q, c) for q in ("win_probability", "share_median", "share_lower", "share_upper") for c in cands]
    cols += [("lead_change_probability", ""), ("note", "")]
    table = pd.DataFrame(rows, index=pd.Index(releases, name="release"))
    table = table[cols]
    table.columns = pd.MultiIndex.from_tuples(cols, names=["quantity", "candidate"])
    for category, messages in caught.items():
        more = (
            f" (and {len(messages) - 1} more in this replay; see Replay.table['note'])"
            if len(messages) > 1
            else ""
        )
        warnings.warn(f"{messages[0]}{more}", category, stacklevel=2)
    settings = {"seed": seed, **{k: v for k, v in kwargs.items()}}
    return Replay(
        count=count,
        final_votes=final_votes,
        table=table,
        forecasts=tuple(fcs),
        forecaster=name,
        settings=settings,
    )
