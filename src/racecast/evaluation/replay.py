"""Replay a finished count release by release, as if the later releases did not exist.

[`replay`][racecast.replay] forecasts the count as it stood after each release
``k = 1 .. n-1`` from ``count[:k]`` alone -- the votes, batch types and outstanding
estimates published up to release ``k`` -- and collects the forecasts in one
table, under the names of a forecast's table ([`Forecast.table`][racecast.Forecast.table])
(``win_probability``, ``final_share_median``, ...).
[`Replay.score`][racecast.Replay.score] then holds them against the final result
with [`racecast.scoring`][racecast.evaluation.scoring]; the same machinery replays
the naive forecasters of [`racecast.evaluation.baselines`][]
(``forecaster="counted_split"``, ...), so racecast and its baselines are scored
identically.

Nothing of release ``k+1`` or later reaches the forecast of release ``k``: each
forecast sees a fresh ``count[:k]``, and its integer seed depends only on the
replay's seed and ``k`` (so replaying ``count[:m]`` reproduces the first
``m - 1`` rows of replaying ``count``, and ``forecast(count[:k], seed=...)`` with
the seed a replayed forecast records reproduces it).

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

import warnings
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import plot as _plot
from .._html import html_summary
from .._progress import ProgressBar, shows_progress
from ..count import Count
from ..errors import ForecastInputError
from ..pipeline import forecast as _forecast
from ..settings import DEFAULT_ENGINE, Engine
from ._replay_table import release_row, tidy_table, wide_table
from .baselines import BASELINES
from .metrics import LOG_LOSS_CLIP, time_to_call, winner_of
from .scoring import Score, score_forecasts

__all__ = ["Replay", "replay"]

_SEED_BITS = 2**63 - 1


@dataclass(frozen=True, eq=False)
class Replay:
    """A count replayed release by release.

    Produced by [`replay`][racecast.replay].

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
        ``final_share_median``, ``final_share_lower``, ``final_share_upper``
        (final-share interval) per candidate, named as in a forecast's table
        ([`Forecast.table`][racecast.Forecast.table]), ``lead_change_probability`` (P(the current leader
        does not finish first): the forecast's own when it has one, else
        1 - P(leader wins)) and ``note`` (why no forecast was made, or the warnings
        the forecast raised).  Per-candidate quantities are selected with
        ``table["win_probability"]``; the others come out as Series.  Rows where
        no forecast could be made (e.g. no outstanding estimate yet) hold ``NaN``
        probabilities and say why in ``note``.
    forecasts : tuple
        The forecast object of each row (``None`` where none was made); a racecast
        forecast's ``settings["seed"]`` reproduces it.
    forecaster : str
        ``"racecast"`` or the baseline's name (or the callable's name).
    settings : dict
        The keyword arguments passed to each forecast, and the replay's integer
        seed (drawn from fresh entropy when none was given), which reproduces it.
    """

    count: Count
    final_votes: pd.Series
    table: pd.DataFrame
    forecasts: tuple[Any, ...] = field(repr=False)
    forecaster: str
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def winner(self) -> Hashable:
        """The candidate with the most ``final_votes``."""
        return winner_of(self.final_votes)

    @property
    def forecast_rows(self) -> pd.Index:
        """Releases for which a forecast was made."""
        return self.table.index[self.table["win_probability"].notna().all(axis=1).to_numpy()]

    def score(self, *, clip: float = LOG_LOSS_CLIP) -> Score:
        """Score the replayed forecasts against ``final_votes``.

        Only releases with a forecast are scored (their number is
        ``Score.n_forecasts``; the others are listed in ``table["note"]``).
        ``called_95``/``called_99`` are release numbers;
        [`called_at`][racecast.Replay.called_at] gives their times.

        Parameters
        ----------
        clip
            Lower clip of the winner's probability in the log loss.

        Returns
        -------
        Score
            See [`Score`][racecast.evaluation.scoring.Score].
        """
        rows = self.forecast_rows
        if len(rows) == 0:
            raise ForecastInputError(f"{self.count.name}: the replay made no forecast to score")
        t = self.table.loc[rows]
        return score_forecasts(
            t["win_probability"],
            final_votes=self.final_votes,
            share_lower=t["final_share_lower"],
            share_upper=t["final_share_upper"],
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
        k = self._called_release(threshold)
        if k is None:
            return None
        ts = self.table.loc[k, "released_at"]
        return None if pd.isna(ts) else pd.Timestamp(ts)

    def to_frame(self) -> pd.DataFrame:
        """The replay as a tidy long table, one row per (release, candidate).

        Columns (``TIDY_COLUMNS``): ``contest``, ``as_of_release`` (the release the
        forecast was made after), ``released_at``, ``batch_type``, ``candidate``,
        ``votes`` (counted then), ``win_probability``, ``final_share_median``,
        ``final_share_lower``, ``final_share_upper``, ``leader`` (whether the
        candidate led then), ``lead`` (the leader's votes minus the runner-up's),
        ``lead_change_probability`` and ``note`` -- named as in a forecast's table
        ([`TABLE_COLUMNS`][racecast.report.TABLE_COLUMNS]), so replays, forecasts
        and [`forecast_many`][racecast.forecast_many] rows stack with ``pandas.concat``.

        Examples
        --------
        >>> import racecast
        >>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
        >>> tidy = racecast.replay(count, forecaster="counted_split", progress=False).to_frame()
        >>> tidy.loc[tidy["as_of_release"] == 3, ["candidate", "votes", "leader"]].values.tolist()
        [['Karen Bass', 240194, False], ['Rick Caruso', 252476, True]]
        """
        return tidy_table(self.table, self.count)

    def _called_release(self, threshold: float) -> Any:
        rows = self.forecast_rows
        if len(rows) == 0:
            return None
        return time_to_call(self.table.loc[rows, ("win_probability", self.winner)], threshold=threshold)

    def _repr_html_(self) -> str:
        called = self._called_release(0.95)
        status = {
            "winner": self.winner,
            "P(winner) ≥ 0.95 from release": "never" if called is None else called,
            "seed": self.settings.get("seed"),
        }
        shown = ["released_at", "batch_type", "leader", "lead", "win_probability", "lead_change_probability"]
        title = (
            f"Replay {self.count.name} by {self.forecaster}: {len(self.forecast_rows)} forecasts "
            f"of {len(self.table)} releases"
        )
        return html_summary(title, status, self.table[shown])

    def plot(self, **kwargs: Any) -> Any:
        """Win probability per release, with the running lead underneath.

        See [`plot_replay`][racecast.plot.plot_replay] (needs matplotlib).
        """
        return _plot.plot_replay(self, **kwargs)

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
    if forecaster in BASELINES:
        return forecaster, BASELINES[forecaster]
    raise ForecastInputError(
        f"unknown forecaster {forecaster!r}; use 'racecast', one of {list(BASELINES)}, or a callable"
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


def _release_seed(entropy: int, k: int) -> int:
    """The integer seed of release ``k``'s forecast: a function of the replay's seed and ``k`` only."""
    state = np.random.SeedSequence(entropy, spawn_key=(k,)).generate_state(1, np.uint64)[0]
    return int(state) & _SEED_BITS


def _forecast_release(
    fn: Callable[..., Any], sub: Count, kwargs: dict[str, Any], caught: dict[type[Warning], list[str]]
) -> tuple[Any, list[str]]:
    """The forecast of one release (``None`` if none can be made) and its notes; warnings go to ``caught``."""
    fc, notes = None, []
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        try:
            fc = fn(sub, **kwargs)
        except ForecastInputError as exc:
            notes.append(f"no forecast: {exc}")
    for w in got:
        caught.setdefault(w.category, []).append(str(w.message))
        notes.append(f"{w.category.__name__}: {w.message}")
    return fc, notes


def _warn_once(caught: dict[type[Warning], list[str]]) -> None:
    """One warning per category for the whole replay (every message stays in the table's notes)."""
    for category, messages in caught.items():
        more = (
            f" (and {len(messages) - 1} more in this replay; see Replay.table['note'])"
            if len(messages) > 1
            else ""
        )
        warnings.warn(f"{messages[0]}{more}", category, stacklevel=3)


def replay(
    count: Count,
    *,
    final: Mapping[str, float] | pd.Series | None = None,
    forecaster: str | Callable[..., Any] = "racecast",
    seed: int | None = None,
    engine: Engine = DEFAULT_ENGINE,
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
        Seed of the whole replay; release ``k`` is forecast with an integer seed
        derived from ``(seed, k)`` only.  ``None``: fresh entropy (recorded in
        ``Replay.settings["seed"]``).
    engine
        Engine of racecast's forecasts (default: ``settings.DEFAULT_ENGINE``, as for
        [`forecast`][racecast.forecast]); not passed to baselines or callables.
    progress
        Show a progress bar on stderr; default: when stderr is a terminal or a
        Jupyter notebook's output (the bar is one line redrawn in place).
    **forecast_kwargs
        Passed to every forecast (e.g. ``draws``, ``interval``).  ``remaining`` is
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
    kwargs = {"engine": engine, **forecast_kwargs} if name == "racecast" else dict(forecast_kwargs)
    final_votes = _final_votes(count, final)
    entropy = int(np.random.SeedSequence(seed).entropy)  # type: ignore[arg-type]
    rows: list[dict[tuple[str, str], Any]] = []
    fcs: list[Any] = []
    caught: dict[type[Warning], list[str]] = {}
    bar = ProgressBar(
        len(count) - 1, shows_progress(progress), f"replaying {count.name} ({name})", "releases"
    )
    for k in range(1, len(count)):
        sub = count[:k]
        fc, notes = _forecast_release(fn, sub, {**kwargs, "seed": _release_seed(entropy, k)}, caught)
        rows.append(release_row(sub, fc, notes))
        fcs.append(fc)
        bar.update()
    _warn_once(caught)
    table = wide_table(rows, count.release_ids[: len(count) - 1], list(count.candidates))
    return Replay(
        count=count,
        final_votes=final_votes,
        table=table,
        forecasts=tuple(fcs),
        forecaster=name,
        settings={"seed": entropy, **kwargs},
    )
