"""Plots render to files with the Agg backend and show what they promise."""

from __future__ import annotations

import io
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import racecast
from racecast.errors import UnseenBatchTypeWarning
from racecast.plot import plot_forecast, plot_replay


@pytest.fixture(scope="module")
def la() -> racecast.Count:
    return racecast.read_count(racecast.example_path("la_mayor_2022_general"))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _png_ok(path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_replay_plot_writes_a_png_and_marks_each_lead_change(la, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnseenBatchTypeWarning)
        rp = racecast.replay(la, seed=1, progress=False, draws=300)
    fig = rp.plot(events={"AP call": pd.Timestamp("2022-11-16T15:35-08:00")})
    out = tmp_path / "replay.png"
    fig.savefig(out)
    assert _png_ok(out)
    top, _bottom = fig.axes
    # LA 2022: Caruso took the lead at release 2, Bass at release 5
    notes = [t.get_text() for t in top.texts]
    assert "Rick Caruso takes the lead" in notes
    assert "Karen Bass takes the lead" in notes
    assert [line.get_label() for line in top.get_lines() if not line.get_label().startswith("_")] == list(
        la.candidates
    )


def test_forecast_plot_writes_a_png_with_intervals_and_margin(la, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnseenBatchTypeWarning)
        fc = racecast.forecast(la[:5], seed=1, engine="fast", draws=500)
    fig = fc.plot()
    out = tmp_path / "forecast.png"
    fig.savefig(out)
    assert _png_ok(out)
    shares, margin = fig.axes
    assert {t.get_text() for t in shares.get_yticklabels()} == {"Karen Bass", "Rick Caruso"}
    assert f"{fc.win_probability.max():.1%}" in margin.get_title()
    assert fig is not plot_forecast(fc)  # a new figure each call


def test_replay_plot_with_three_candidates_and_no_release_times(tmp_path):
    csv = (
        "batch_type,A,B,C,outstanding_mixed\n"
        "mixed,50,40,30,300\nmixed,90,100,60,200\nmixed,150,140,90,100\nmixed,190,200,110,0\n"
    )
    count = racecast.read_count(io.StringIO(csv), name="three.csv")
    rp = racecast.replay(count, forecaster="counted_split", seed=2, progress=False)
    fig = plot_replay(rp, title="three-way", events={"call": 3})
    out = tmp_path / "three.png"
    fig.savefig(out)
    assert _png_ok(out)
    assert fig.axes[1].get_xlabel() == "release"


def test_replay_plot_shows_release_times_in_the_zone_asked_for(la):
    import matplotlib.dates as mdates

    rp = racecast.replay(la, forecaster="counted_split", progress=False)
    utc = rp.plot()
    local = rp.plot(timezone="America/Los_Angeles")
    assert utc.axes[1].get_xlabel() == "release time (UTC)"
    assert local.axes[1].get_xlabel() == "release time (America/Los_Angeles)"
    # the same instant, read on each axis: 8 hours earlier in Los Angeles in November
    first = mdates.date2num(la.released_at.iloc[0].to_pydatetime())  # 2022-11-09 04:55 UTC
    shown = [fig.axes[1].xaxis.get_major_formatter().format_data_short(first) for fig in (utc, local)]
    assert shown == ["2022-11-09 04:55:00", "2022-11-08 20:55:00"]
    assert local.get_suptitle().startswith("la_mayor_2022_general.csv")  # the count's name, not its path
    with pytest.raises(racecast.ForecastInputError, match="unknown time zone"):
        rp.plot(timezone="Nowhere/City")
