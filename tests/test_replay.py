"""Replaying a count: one forecast per release, made from what was known at that release only."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
import pytest

import racecast
from racecast import scoring
from racecast.errors import ForecastInputError, UnseenBatchTypeWarning

# Releases 1-4 are shared; the two futures disagree on who wins.
_PAST = (
    "release,released_at,batch_type,A,B,outstanding_mixed\n"
    "1,2024-11-05T20:00-08:00,mixed,52000,48000,200000\n"
    "2,2024-11-05T22:00-08:00,mixed,78500,71500,150000\n"
    "3,2024-11-06T12:00-08:00,mixed,104000,96000,100000\n"
    "4,2024-11-07T12:00-08:00,mixed,130500,119500,50000\n"
)
_B_SURGES = (
    "5,2024-11-08T12:00-08:00,mixed,140000,160000,10000\n6,2024-11-09T12:00-08:00,mixed,142000,168000,0\n"
)
_A_HOLDS = (
    "5,2024-11-08T12:00-08:00,mixed,157000,143000,10000\n6,2024-11-09T12:00-08:00,mixed,162000,148000,0\n"
)


def _count(csv: str, name: str = "toy.csv") -> racecast.Count:
    return racecast.read_count(io.StringIO(csv), name=name)


@pytest.fixture(scope="module")
def la() -> racecast.Count:
    return racecast.read_count(racecast.example_path("la_mayor_2022_general"))


@pytest.fixture(scope="module")
def la_replay(la) -> racecast.Replay:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnseenBatchTypeWarning)
        return racecast.replay(la, seed=7, progress=False)


def test_replay_never_looks_ahead_future_releases_change_the_winner_not_the_forecasts():
    b_wins = _count(_PAST + _B_SURGES)
    a_wins = _count(_PAST + _A_HOLDS)
    rb = racecast.replay(b_wins, seed=11, progress=False, draws=500)
    ra = racecast.replay(a_wins, seed=11, progress=False, draws=500)
    assert (rb.winner, ra.winner) == ("B", "A")
    shared = [1, 2, 3, 4]
    cols = ["win_probability", "final_share_lower", "final_share_upper", "lead_change_probability"]
    pd.testing.assert_frame_equal(rb.table.loc[shared, cols], ra.table.loc[shared, cols])
    # ... and the scores differ, because only the truth differs
    assert rb.score().brier != ra.score().brier
    # the forecast of release 4 is exactly a forecast of count[:4] with that release's seed
    alone = racecast.replay(b_wins[:5], seed=11, progress=False, draws=500)
    pd.testing.assert_frame_equal(alone.table.loc[shared, cols], rb.table.loc[shared, cols])


def test_each_forecast_is_given_only_the_releases_up_to_its_own():
    seen = []

    def spy(count, **kwargs):
        seen.append((len(count), int(count.release_ids[-1]), int(count.votes[-1].sum())))
        return racecast.baselines.counted_split(count, **kwargs)

    count = _count(_PAST + _B_SURGES)
    rp = racecast.replay(count, forecaster=spy, progress=False)
    assert [s[:2] for s in seen] == [(k, k) for k in range(1, 6)]
    assert [s[2] for s in seen] == list(count.votes[:5].sum(axis=1))
    assert rp.forecaster == "spy"


def test_table_has_one_row_per_release_but_the_last(la, la_replay):
    t = la_replay.table
    assert list(t.index) == list(la.release_ids[:-1])
    assert t.index.name == "release"
    assert list(t["win_probability"].columns) == list(la.candidates)
    for q in ("final_share_median", "final_share_lower", "final_share_upper"):
        assert list(t[q].columns) == list(la.candidates)
    assert (t["released_at"] == la.released_at.iloc[:-1].to_numpy()).all()
    # leader and lead are the counted ones
    assert t.loc[3, "leader"] == "Rick Caruso"
    assert t.loc[3, "lead"] == 252476 - 240194
    assert t.loc[5, "leader"] == "Karen Bass"


def test_lead_change_probability_is_the_forecasts_own_or_one_minus_the_leaders_chance(la, la_replay):
    t = la_replay.table
    for k, fc in zip(t.index, la_replay.forecasts, strict=True):
        if fc is not None:
            assert t.loc[k, "lead_change_probability"] == pytest.approx(fc.lead_change_probability)
    rp = racecast.replay(la, forecaster="counted_split", progress=False)
    t = rp.table.loc[rp.forecast_rows]
    p_leader = [t.loc[k, ("win_probability", t.loc[k, "leader"])] for k in t.index]
    np.testing.assert_allclose(t["lead_change_probability"].to_numpy(dtype=float), 1 - np.array(p_leader))


def test_releases_before_any_outstanding_estimate_have_no_forecast_and_say_why(la_replay):
    t = la_replay.table
    assert t.loc[[1, 2], "win_probability"].isna().all().all()
    assert t.loc[1, "note"].startswith("no forecast:")
    assert "outstanding" in t.loc[1, "note"]
    assert list(la_replay.forecast_rows) == list(range(3, 16))
    assert la_replay.forecasts[0] is None
    assert la_replay.forecasts[2] is not None


def test_score_applies_the_scoring_functions_to_the_forecast_rows(la, la_replay):
    s = la_replay.score()
    t = la_replay.table.loc[list(range(3, 16))]
    assert s.n_forecasts == 13
    assert s.winner == "Karen Bass"
    assert s.brier == pytest.approx(scoring.brier_score(t["win_probability"], "Karen Bass"))
    truth = la.totals / la.totals.sum()
    coverage = scoring.interval_coverage(t["final_share_lower"], t["final_share_upper"], truth)
    assert s.coverage == pytest.approx(coverage)
    called = la_replay.called_at(0.95)
    assert called is None or called == la_replay.table.loc[s.called_95, "released_at"]


def test_final_overrides_the_truth_not_the_forecasts(la, la_replay):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnseenBatchTypeWarning)
        other = racecast.replay(
            la, seed=7, progress=False, final={"Karen Bass": 400000, "Rick Caruso": 500000}
        )
    pd.testing.assert_frame_equal(other.table, la_replay.table)
    assert other.winner == "Rick Caruso"
    assert other.score().brier > la_replay.score().brier
    with pytest.raises(ForecastInputError, match="missing"):
        racecast.replay(la, final={"Karen Bass": 1}, progress=False)


def test_same_seed_same_replay(la):
    kw = {"seed": 3, "progress": False, "draws": 300}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnseenBatchTypeWarning)
        a = racecast.replay(la, **kw)
        b = racecast.replay(la, **kw)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert a.settings["engine"] == "fast"  # the fast engine is the replay default


def test_each_replayed_forecast_records_the_integer_seed_that_reproduces_it(la):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnseenBatchTypeWarning)
        rp = racecast.replay(la, seed=5, progress=False, draws=300)
        for k in (3, 6):
            fc = rp.forecasts[k - 1]
            seed = fc.settings["seed"]
            assert isinstance(seed, int)
            again = racecast.forecast(la[:k], seed=seed, engine="fast", draws=300)
            pd.testing.assert_series_equal(again.win_probability, fc.win_probability)
            pd.testing.assert_frame_equal(again.final_share, fc.final_share)
    assert rp.settings["seed"] == 5


def test_replay_refuses_a_fixed_remaining_override(la):
    with pytest.raises(ForecastInputError, match="remaining"):
        racecast.replay(la, remaining={"late_mail": 1000})
    with pytest.raises(ForecastInputError, match="at least two releases"):
        racecast.replay(la[:1])
    with pytest.raises(ForecastInputError, match="unknown forecaster"):
        racecast.replay(la, forecaster="oracle")


def test_baselines_replay_through_the_same_machinery(la):
    for name in racecast.baselines.BASELINES:
        rp = racecast.replay(la, forecaster=name, progress=False)
        assert rp.forecaster == name
        assert list(rp.forecast_rows) == list(range(3, 16))
        fc = racecast.baselines.BASELINES[name](la[:6])
        assert rp.table.loc[6, "win_probability"].to_numpy() == pytest.approx(fc.win_probability.to_numpy())


def test_forecast_warnings_are_kept_per_release_and_raised_once(la):
    with pytest.warns(UnseenBatchTypeWarning, match="more in this replay") as record:
        rp = racecast.replay(la, seed=1, progress=False, draws=300)
    assert sum(issubclass(w.category, UnseenBatchTypeWarning) for w in record) == 1
    assert "UnseenBatchTypeWarning" in rp.table.loc[3, "note"]


def test_progress_bar_can_be_forced_on_and_is_off_by_default_when_not_on_a_terminal(la, capsys, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich draws its bar even though pytest's capture is no terminal
    rp = racecast.replay(la, forecaster="counted_split", progress=True)
    assert len(rp.table) == len(la) - 1
    drawn = capsys.readouterr()
    assert "replaying" in drawn.out + drawn.err
    racecast.replay(la, forecaster="counted_split")  # stderr is captured, not a terminal: no bar
    quiet = capsys.readouterr()
    assert quiet.out + quiet.err == ""
