"""Plots of replays and forecasts (matplotlib; install the `plot` extra).

Two pictures carry the story of a count:

* [`plot_replay`][racecast.plot.plot_replay] -- who was going to win after each release: the win
  probability per candidate, with the running lead in votes underneath and the
  releases where the lead changed hands marked;
* [`plot_forecast`][racecast.plot.plot_forecast] -- one forecast: each candidate's final-share interval
  next to the share counted so far, and the simulated final margin.

Both return the `matplotlib.figure.Figure` and draw nothing on screen by
themselves; save it with `fig.savefig(path)`.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import racecast
>>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
>>> fig = racecast.replay(count, seed=1, progress=False).plot()
>>> len(fig.axes)
2
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from ._format import TimeZone, resolve_timezone
from .count import Count
from .report import ForecastLike

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["candidate_colors", "plot_forecast", "plot_replay"]


class _ReplayLike(Protocol):
    """What [`plot_replay`][racecast.plot.plot_replay] reads of a replay ([`Replay`][racecast.Replay])."""

    @property
    def count(self) -> Count: ...
    @property
    def table(self) -> pd.DataFrame: ...
    @property
    def forecaster(self) -> str: ...


# Colour-blind-safe palette (Okabe-Ito), in candidate order.
_PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("racecast's plots need matplotlib: pip install 'racecast[plot]'") from exc
    return plt


def candidate_colors(candidates: tuple[str, ...] | list[str]) -> dict[str, str]:
    """The colour of each candidate in every racecast plot (by position).

    Examples
    --------
    >>> from racecast.plot import candidate_colors
    >>> candidate_colors(["A", "B"])
    {'A': '#0072B2', 'B': '#D55E00'}
    """
    return {c: _PALETTE[i % len(_PALETTE)] for i, c in enumerate(candidates)}


def _x_axis(
    times: pd.Series, releases: np.ndarray, tz: dt.tzinfo
) -> tuple[np.ndarray | pd.DatetimeIndex, str, bool]:
    if len(times) and times.notna().all():
        index = pd.DatetimeIndex(times)
        index = index.tz_localize("UTC") if index.tz is None else index
        return index.tz_convert(tz), f"release time ({_zone_label(tz, index[-1])})", True
    return np.asarray(releases), "release", False


def _zone_label(tz: dt.tzinfo, at: pd.Timestamp) -> str:
    """``UTC``, an IANA name (``America/Los_Angeles``) or the zone's name at ``at``."""
    key = getattr(tz, "key", None)
    return str(key) if key else (at.tz_convert(tz).tzname() or "UTC")


def plot_replay(
    replay: _ReplayLike,
    *,
    title: str | None = None,
    events: Mapping[str, Any] | None = None,
    threshold: float = 0.95,
    figsize: tuple[float, float] = (9.0, 5.5),
    timezone: TimeZone = None,
) -> Figure:
    """Win probability per release, with the running lead underneath.

    Parameters
    ----------
    replay
        A [`Replay`][racecast.Replay] (what `racecast.replay(count)` returns).
    title
        Figure title (default: the count's name and the forecaster).
    events
        Extra vertical markers, `{label: time or release number}`, e.g.
        `{"AP call": pd.Timestamp("2022-11-16T23:35Z")}`.
    threshold
        Level drawn as the "call" line (default 0.95).
    figsize
        Figure size in inches.
    timezone
        Time zone of the release-time axis: an IANA name (``"America/Los_Angeles"``)
        or a ``tzinfo`` (default UTC); the axis label names it.

    Returns
    -------
    matplotlib.figure.Figure
        Top: P(win) of each candidate after each release (releases without a
        forecast are left out); dotted vertical lines mark releases after which
        the counted lead changed hands.  Bottom: the lead in votes after every
        release (including the last), coloured by the leader; with two
        candidates it is signed (above zero the first candidate leads).

    Examples
    --------
    >>> import racecast
    >>> from racecast.plot import plot_replay
    >>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    >>> fig = plot_replay(racecast.replay(count, seed=1, progress=False), threshold=0.99)
    >>> fig.axes[0].get_ylabel()
    'P(win)'
    """
    plt = _pyplot()
    count = replay.count
    cands = list(count.candidates)
    colors = candidate_colors(cands)
    tz = resolve_timezone(timezone)
    x_all, xlabel, is_time = _x_axis(count.released_at, count.release_ids, tz)
    fig, (ax, ax_lead) = plt.subplots(
        2, 1, sharex=True, figsize=figsize, gridspec_kw={"height_ratios": [2.2, 1.0], "hspace": 0.08}
    )
    _draw_win_probability(plt, ax, replay.table, x_all, colors, threshold)
    leader_idx = _draw_lead(plt, ax_lead, count.votes, x_all, colors)
    ax_lead.set_xlabel(xlabel)
    ax_lead.grid(axis="y", color="0.9")

    def xnum(v: Any) -> float:
        """x position as a plain number (text positions do not convert dates)."""
        if is_time:
            import matplotlib.dates as mdates

            return float(mdates.date2num(pd.Timestamp(v).to_pydatetime()))
        return float(v)

    _mark_lead_changes(ax, ax_lead, x_all, leader_idx, cands, xnum)
    _mark_events(ax, ax_lead, events or {}, is_time, xnum)
    if is_time:
        import matplotlib.dates as mdates

        loc = mdates.AutoDateLocator(maxticks=8, tz=tz)
        ax_lead.xaxis.set_major_locator(loc)
        ax_lead.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc, tz=tz))
    ax.legend(loc="center right", frameon=False, fontsize=9)
    name = getattr(count, "name", "count")
    short = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    fig.suptitle(title or f"{short}: win probability after each release ({replay.forecaster})", fontsize=11)
    return fig


def _draw_win_probability(
    plt: Any, ax: Axes, table: pd.DataFrame, x_all: Any, colors: dict[str, str], threshold: float
) -> None:
    """P(win) of each candidate after each forecast release, with the call lines."""
    x_fc = x_all[: len(table)]
    ok = table["win_probability"].notna().all(axis=1).to_numpy()
    for c in colors:
        p = table[("win_probability", c)].to_numpy(dtype=float)
        ax.plot(
            x_fc[ok],
            p[ok],
            marker="o",
            ms=3.5,
            lw=1.8,
            drawstyle="steps-post",
            color=colors[c],
            label=c,
        )
    ax.axhline(threshold, color="0.55", lw=0.8, ls="--")
    ax.axhline(1 - threshold, color="0.55", lw=0.8, ls="--")
    ax.text(
        1.0,
        threshold,
        f" {threshold:.0%}",
        transform=ax.get_yaxis_transform(),
        va="center",
        fontsize=8,
        color="0.4",
    )
    ax.set_ylim(-0.03, 1.03)
    ax.set_ylabel("P(win)")
    ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.grid(axis="y", color="0.9")


def _draw_lead(plt: Any, ax_lead: Axes, votes: np.ndarray, x_all: Any, colors: dict[str, str]) -> np.ndarray:
    """The running lead in votes after every release, coloured by the leader; returns the leader's index."""
    cands = list(colors)
    order = np.argsort(-votes, axis=1, kind="stable")
    leader_idx = order[:, 0]
    rows = np.arange(len(votes))
    if len(cands) == 2:
        # signed: above zero the first candidate leads, below the second
        lead = (votes[:, 0] - votes[:, 1]).astype(float)
        ax_lead.axhline(0, color="0.3", lw=0.8)
        top = max(1.0, float(np.abs(lead).max())) * 1.3
        ax_lead.set_ylim(-top, top)
        for sign, c in ((1, cands[0]), (-1, cands[1])):
            ax_lead.text(
                0.005,
                0.5 + sign * 0.47,
                f"{c} ahead",
                transform=ax_lead.transAxes,
                fontsize=8,
                color=colors[c],
                va="top" if sign > 0 else "bottom",
            )
        ax_lead.yaxis.set_major_formatter(plt.matplotlib.ticker.FuncFormatter(lambda v, _: f"{abs(v):,.0f}"))
    else:
        lead = (votes[rows, order[:, 0]] - votes[rows, order[:, 1]]).astype(float)
        ax_lead.set_ylim(0, max(1.0, float(lead.max())) * 1.25)
        ax_lead.yaxis.set_major_formatter(plt.matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    lead_colors = [colors[cands[i]] for i in leader_idx]
    ax_lead.vlines(x_all, 0, lead, colors=lead_colors, lw=2.2)
    ax_lead.scatter(x_all, lead, c=lead_colors, s=14, zorder=3)
    ax_lead.set_ylabel("lead (votes)")
    return leader_idx


def _mark_lead_changes(
    ax: Axes,
    ax_lead: Axes,
    x_all: Any,
    leader_idx: np.ndarray,
    cands: list[str],
    xnum: Callable[[Any], float],
) -> None:
    """Dotted lines at the releases after which the counted lead changed hands."""
    changes = [i for i in range(1, len(leader_idx)) if leader_idx[i] != leader_idx[i - 1]]
    for j, i in enumerate(changes):
        for a in (ax, ax_lead):
            a.axvline(x_all[i], color="0.35", lw=0.9, ls=":")
        ax.annotate(
            f"{cands[leader_idx[i]]} takes the lead",
            xy=(xnum(x_all[i]), 1.03),
            xycoords=ax.get_xaxis_transform(),
            fontsize=7.5,
            color="0.3",
            rotation=0,
            ha="left",
            va="bottom",
            xytext=(2, 2 + 9 * (j % 2)),
            textcoords="offset points",
        )


def _mark_events(
    ax: Axes, ax_lead: Axes, events: Mapping[str, Any], is_time: bool, xnum: Callable[[Any], float]
) -> None:
    """The caller's extra vertical markers (`events=`), labelled."""
    for label, at in events.items():
        xv = pd.Timestamp(at) if is_time else at
        if is_time and xv.tzinfo is None:
            xv = xv.tz_localize("UTC")
        for a in (ax, ax_lead):
            a.axvline(xv, color="k", lw=1.1, ls="-.")
        ax.text(
            xnum(xv),
            0.5,
            f"{label} ",
            transform=ax.get_xaxis_transform(),
            rotation=90,
            fontsize=8,
            va="center",
            ha="right",
        )


def plot_forecast(
    forecast: ForecastLike,
    *,
    title: str | None = None,
    figsize: tuple[float, float] = (9.0, 3.8),
    bins: int = 60,
) -> Figure:
    """Final-share intervals per candidate, and the simulated final margin.

    Parameters
    ----------
    forecast
        A [`Forecast`][racecast.Forecast].
    title
        Figure title (default: the count's name and the release).
    figsize
        Figure size in inches.
    bins
        Histogram bins of the margin.

    Returns
    -------
    matplotlib.figure.Figure
        Left: for each candidate the median final share and its interval (bar),
        the share counted so far (open circle) and P(win).  Right: histogram of
        the simulated final margin of the favourite over the runner-up, the part
        below zero (the favourite loses) shaded.

    Examples
    --------
    >>> import racecast
    >>> from racecast.plot import plot_forecast
    >>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    >>> fig = plot_forecast(racecast.forecast(count[:5], seed=1), bins=40)
    >>> [ax.get_xlabel()[:11] for ax in fig.axes]
    ['final share', 'Karen Bass ']
    """
    plt = _pyplot()
    cands = list(forecast.candidates)
    colors = candidate_colors(cands)
    fs = forecast.final_share
    p = forecast.win_probability
    counted = forecast.count.totals / forecast.count.totals.sum()
    fig, (ax, ax_m) = plt.subplots(
        1, 2, figsize=figsize, gridspec_kw={"width_ratios": [1.1, 1.0], "wspace": 0.3}
    )

    y = np.arange(len(cands))[::-1]
    for yi, c in zip(y, cands, strict=True):
        lo, med, hi = (100 * fs.loc[c, k] for k in ("lower", "median", "upper"))
        ax.plot([lo, hi], [yi, yi], color=colors[c], lw=7, alpha=0.35, solid_capstyle="butt")
        ax.plot([med], [yi], "o", color=colors[c], ms=8)
        ax.plot([100 * counted[c]], [yi], "o", mfc="white", mec="0.2", ms=6)
        ax.text(hi, yi + 0.22, f" P(win) {p[c]:.0%}", fontsize=9, va="bottom", ha="right", color=colors[c])
    if len(cands) == 2:
        ax.axvline(50, color="0.5", lw=0.8, ls="--")
    ax.set_yticks(y, cands)
    ax.set_ylim(y.min() - 0.6, y.max() + 0.8)
    ax.set_xlabel(f"final share (%): median, {forecast.interval:.0%} interval; ○ counted so far")
    ax.grid(axis="x", color="0.92")

    margin = forecast.final_margin
    fav = str(p.idxmax())
    others = [c for c in cands if c != fav]
    ru = others[0] if len(others) == 1 else "runner-up"
    edges = np.histogram_bin_edges(margin, bins=bins)
    counts, edges = np.histogram(margin, bins=edges)
    mids = 0.5 * (edges[:-1] + edges[1:])
    ax_m.bar(mids, counts, width=np.diff(edges), color=np.where(mids < 0, "0.6", colors[fav]), lw=0)
    ax_m.axvline(0, color="k", lw=1)
    ax_m.text(0.02, 0.97, f"{ru} wins", transform=ax_m.transAxes, fontsize=8.5, color="0.45", va="top")
    ax_m.text(
        0.98,
        0.97,
        f"{fav} wins",
        transform=ax_m.transAxes,
        fontsize=8.5,
        color=colors[fav],
        va="top",
        ha="right",
    )
    ax_m.set_xlabel(f"{fav} \u2212 {ru} (share points)")
    ax_m.set_yticks([])
    ax_m.set_title(f"simulated final margin: P({fav} wins) = {p[fav]:.1%}", fontsize=10)
    last = forecast.count.release_ids[-1]
    short = str(forecast.count.name).replace("\\", "/").rsplit("/", 1)[-1]
    fig.suptitle(title or f"{short}: forecast after release {last}", fontsize=11)
    fig.subplots_adjust(left=0.15, right=0.97, top=0.85, bottom=0.17)
    return fig
