"""Working in a notebook: views of counts, forecasts and replays, tidy replays, progress and warnings."""

from __future__ import annotations

import io
import re
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import racecast
from racecast._progress import ProgressBar, shows_progress
from racecast.errors import RacecastWarning, UnseenBatchTypeWarning
from racecast.report import TABLE_COLUMNS

_TOY = (
    "release,released_at,batch_type,<b>Ann</b>,Bob & Co,outstanding_mixed\n"
    "1,2024-11-05T20:00-08:00,mixed,52000,48000,200000\n"
    "2,2024-11-05T22:00-08:00,mixed,78500,71500,150000\n"
    "3,2024-11-06T12:00-08:00,mixed,104000,96000,100000\n"
    "4,2024-11-07T12:00-08:00,mixed,130500,119500,50000\n"
)


@pytest.fixture(scope="module")
def la() -> racecast.Count:
    return racecast.read_count(racecast.example_path("la_mayor_2022_general"))


@pytest.fixture(scope="module")
def toy() -> racecast.Count:
    return racecast.read_count(io.StringIO(_TOY), name="<toy>.csv")


@pytest.fixture(scope="module")
def la_replay(la) -> racecast.Replay:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnseenBatchTypeWarning)
        return racecast.replay(la, seed=7, draws=300, progress=False)


def _unescaped(html_text: str) -> list[str]:
    """Raw markup that is not racecast's own (what a name would inject if it were not escaped)."""
    return re.findall(r"<(?!/?(?:div|p|strong|br|table|thead|tbody|tr|th|td)\b)[^>]*>", html_text)


# ---------------------------------------------------------------------------
# counts are named by their file, never by where they are installed
# ---------------------------------------------------------------------------
def test_a_bundled_count_is_named_by_its_file_name_not_its_install_path(la):
    assert la.name == "la_mayor_2022_general.csv"
    assert "/" not in repr(la)
    assert "\\" not in repr(la)
    assert "la_mayor_2022_general.csv" in repr(la)


def test_an_open_file_is_named_by_its_file_name_and_name_still_wins():
    path = racecast.example_path("la_mayor_2022_general")
    with open(path, encoding="utf-8") as f:
        assert racecast.read_count(f).name == "la_mayor_2022_general.csv"
    assert racecast.read_count(path, name="LA mayor").name == "LA mayor"
    assert racecast.read_count(io.StringIO(path.read_text(encoding="utf-8"))).name == "<buffer>"


def test_messages_name_the_file_and_a_missing_file_says_where_it_looked(tmp_path):
    bad = tmp_path / "sub" / "count.csv"
    bad.parent.mkdir()
    bad.write_text("batch_type,A,B\nearly_mail,10,x\n")
    with pytest.raises(racecast.CountFormatError) as err:
        racecast.read_count(bad)
    assert str(err.value).startswith("count.csv, row 2, column 'B'")
    assert str(tmp_path) not in str(err.value)
    with pytest.raises(racecast.CountFormatError, match="file not found") as missing:
        racecast.read_count(tmp_path / "nope.csv")
    assert missing.value.source == "nope.csv"
    assert str(tmp_path / "nope.csv") in str(missing.value)


def test_a_forecast_and_a_replay_carry_the_short_name(la, la_replay):
    assert la_replay.count.name == "la_mayor_2022_general.csv"
    assert repr(la_replay).startswith("<Replay 'la_mayor_2022_general.csv'")
    fc = la_replay.forecasts[-1]
    assert fc.table()["contest"].unique().tolist() == ["la_mayor_2022_general.csv"]


# ---------------------------------------------------------------------------
# _repr_html_: a compact table and a status line, every name escaped
# ---------------------------------------------------------------------------
def test_a_count_shows_its_totals_and_status(la, toy):
    view = la._repr_html_()
    assert "<table" in view
    assert f"Count la_mayor_2022_general.csv: {len(la)} releases, 2 candidates" in view
    assert "after release: 16" in view
    assert "latest batch: late_mail" in view
    assert "outstanding ballots: late_mail 22,200, provisional 3,050" in la[:12]._repr_html_()
    assert "outstanding ballots: late_mail 0, provisional 0" in view  # the certified count
    ballot = racecast.read_ballot(racecast.example_path("la_county_2022"))
    nov18 = ballot.contest(ballot.contests[0])[:9]._repr_html_()  # the split of Nov 12, a total since
    assert "provisional 300 at release 4; outstanding total 175,050 at release 9" in nov18
    assert view.index("Karen Bass") < view.index("Rick Caruso")  # most votes first
    shown = toy._repr_html_()
    assert "&lt;b&gt;Ann&lt;/b&gt;" in shown
    assert "Bob &amp; Co" in shown
    assert "&lt;toy&gt;.csv" in shown
    assert _unescaped(shown) == []


def test_a_forecast_shows_its_table_and_status(toy):
    fc = racecast.forecast(toy, seed=0, draws=300, engine="fast")
    view = fc._repr_html_()
    assert "Forecast &lt;toy&gt;.csv after release 4" in view
    for column in (
        "votes",
        "win_probability",
        "final_share_median",
        "final_share_lower",
        "final_share_upper",
    ):
        assert column in TABLE_COLUMNS
        assert f"<th>{column}</th>" in view
    assert "rule: plurality" in view
    assert "engine: fast" in view
    assert "interval: 90%" in view
    assert "leader: &lt;b&gt;Ann&lt;/b&gt;" in view
    assert "P(lead changes)" in view
    assert _unescaped(view) == []


def test_a_replay_shows_one_row_per_release_and_when_it_was_called(la_replay):
    view = la_replay._repr_html_()
    made, replayed = len(la_replay.forecast_rows), len(la_replay.table)
    assert f"Replay la_mayor_2022_general.csv by racecast: {made} forecasts of {replayed} releases" in view
    assert "winner: Karen Bass" in view
    assert "seed: 7" in view
    assert "P(winner) ≥ 0.95 from release:" in view
    assert view.count("<tr>") == 3 + len(la_replay.table)  # three header rows, one row per release
    assert "win_probability" in view
    assert "lead_change_probability" in view


def test_a_long_table_is_cut_and_says_how_many_rows_more():
    from racecast._html import HTML_ROWS, html_summary

    table = pd.DataFrame({"x": np.arange(HTML_ROWS + 5)})
    view = html_summary("t", {"<n>": "<v>"}, table)
    assert "… 5 more rows" in view
    assert "&lt;n&gt;: &lt;v&gt;" in view


# ---------------------------------------------------------------------------
# the replay as a tidy table
# ---------------------------------------------------------------------------
def test_a_replay_as_a_tidy_table_has_one_row_per_release_and_candidate(la, la_replay):
    tidy = la_replay.to_frame()
    table = la_replay.table
    assert len(tidy) == len(table) * la.n_candidates
    assert list(tidy.columns) == [
        "contest",
        "as_of_release",
        "released_at",
        "batch_type",
        "candidate",
        "votes",
        "win_probability",
        "final_share_median",
        "final_share_lower",
        "final_share_upper",
        "leader",
        "lead",
        "lead_change_probability",
        "note",
    ]
    shared = [c for c in tidy.columns if c in TABLE_COLUMNS]
    assert shared == [c for c in TABLE_COLUMNS if c in tidy.columns]  # same names, same order as a forecast's
    one = tidy.set_index(["as_of_release", "candidate"])
    for (release, cand), row in one.iterrows():
        assert row["win_probability"] == pytest.approx(
            table.loc[release, ("win_probability", cand)], nan_ok=True
        )
        assert row["final_share_upper"] == pytest.approx(
            table.loc[release, ("final_share_upper", cand)], nan_ok=True
        )
        assert row["leader"] == (table.loc[release, "leader"] == cand)
        assert row["note"] == table.loc[release, "note"]
        assert row["votes"] == la[: list(la.release_ids).index(release) + 1].totals[cand]
    assert tidy["released_at"].dt.tz is not None
    assert tidy.groupby("as_of_release")["leader"].sum().eq(1).all()


def test_a_tidy_replay_stacks_with_a_forecast_table(la, la_replay):
    fc = la_replay.forecasts[-1]
    both = pd.concat([la_replay.to_frame(), fc.table()], ignore_index=True)
    last = both[both["as_of_release"] == int(fc.count.release_ids[-1])]
    assert len(last) == 4  # the replay's row pair and the forecast's
    assert last.groupby("candidate")["win_probability"].nunique().eq(1).all()


# ---------------------------------------------------------------------------
# progress bars in a terminal and a notebook
# ---------------------------------------------------------------------------
class _KernelStream(io.StringIO):
    """Stands in for a Jupyter kernel's stderr (ipykernel.iostream.OutStream): not a terminal."""


_KernelStream.__module__ = "ipykernel.iostream"


def test_progress_is_on_by_default_in_a_terminal_or_a_notebook_and_off_in_a_log():
    assert shows_progress(None, _KernelStream()) is True
    assert shows_progress(None, io.StringIO()) is False
    assert shows_progress(None, SimpleNamespace(isatty=lambda: True)) is True  # type: ignore[arg-type]
    assert shows_progress(True, io.StringIO()) is True
    assert shows_progress(False, _KernelStream()) is False


def test_the_bar_is_one_line_redrawn_in_place():
    out = io.StringIO()
    bar = ProgressBar(3, True, "replaying x.csv (racecast)", "releases", stream=out)
    for _ in range(3):
        bar.update()
    drawn = out.getvalue()
    assert drawn.count("\n") == 1
    assert drawn.endswith("\n")
    assert (
        drawn.rstrip()
        .split("\r")[-1]
        .startswith("replaying x.csv (racecast) [" + "#" * 30 + "] 3/3 releases")
    )
    silent = io.StringIO()
    ProgressBar(3, False, "x", stream=silent).update(3)
    assert silent.getvalue() == ""


def test_a_replay_in_a_notebook_draws_its_bar_by_default(la, monkeypatch):
    stream = _KernelStream()
    monkeypatch.setattr("sys.stderr", stream)
    racecast.replay(la[:4], forecaster="counted_split")
    drawn = stream.getvalue()
    assert "replaying la_mayor_2022_general.csv (counted_split)" in drawn
    assert "3/3 releases" in drawn


# ---------------------------------------------------------------------------
# one warning per replay, not one per forecast
# ---------------------------------------------------------------------------
class _LeanWarning(RacecastWarning):
    pass


def _warns_every_release(count: racecast.Count, **_: object) -> object:
    warnings.warn(f"{count.name}: release {count.release_ids[-1]} leans", _LeanWarning, stacklevel=2)
    warnings.warn("another kind", RacecastWarning, stacklevel=2)
    return racecast.baselines.counted_split(count)


def test_a_replay_warns_once_per_kind_and_keeps_every_message_in_its_notes(toy):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rp = racecast.replay(toy, forecaster=_warns_every_release, progress=False)
    kinds = [w.category for w in caught]
    assert kinds.count(_LeanWarning) == 1
    assert kinds.count(RacecastWarning) == 1
    lean = next(str(w.message) for w in caught if w.category is _LeanWarning)
    assert "release 1 leans" in lean
    assert "and 2 more in this replay" in lean
    for release in rp.table.index:
        assert f"release {release} leans" in rp.table.loc[release, "note"]


def test_a_racecast_replay_of_the_la_count_warns_once(la):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rp = racecast.replay(la, seed=3, draws=300, progress=False)
    unseen = [w for w in caught if issubclass(w.category, UnseenBatchTypeWarning)]
    assert len(unseen) == 1
    per_release = sum("UnseenBatchTypeWarning" in n for n in rp.table["note"])
    assert per_release > 1
