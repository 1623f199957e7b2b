"""forecast_many: a whole ballot at once, on every core or on a Dask cluster."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import racecast
from racecast import ForecastInputError, UnseenBatchTypeWarning
from racecast.evaluation.synthetic import synthetic_count

from .conftest import csv_count


def _ballot(n: int = 8) -> dict[str, racecast.Count]:
    rng = np.random.default_rng(5)
    return {f"contest {i}": synthetic_count(rng, n_candidates=2 + i % 2).count for i in range(n)}


def _quiet_many(counts, **kwargs) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        return racecast.forecast_many(counts, progress=False, **kwargs)


def test_one_row_per_contest_and_candidate_in_the_order_given():
    ballot = _ballot()
    table = _quiet_many(ballot, seed=1, processes=1)
    expected = [(name, c) for name, count in ballot.items() for c in count.candidates]
    assert list(table.index) == expected
    assert table.index.names == ["contest", "candidate"]
    for name, count in ballot.items():
        rows = table.loc[name]
        assert rows["votes"].to_dict() == {c: int(v) for c, v in count.totals.items()}
        assert rows["win_probability"].sum() == pytest.approx(1.0)  # plurality
        assert (rows["final_share_lower"] <= rows["final_share_median"]).all()
        assert (rows["final_share_median"] <= rows["final_share_upper"]).all()
        assert rows["leader"].sum() == 1
        assert rows["leader"].idxmax() == count.totals.idxmax()
        assert rows["releases"].eq(len(count)).all()
    assert table["error"].isna().all()


def test_each_contest_is_the_forecast_it_would_get_alone():
    ballot = _ballot(3)
    table = _quiet_many(ballot, seed=7, processes=1, draws=500)
    seeds = np.random.SeedSequence(7).generate_state(3, dtype=np.uint32)
    for (name, count), seed in zip(ballot.items(), seeds, strict=False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", racecast.RacecastWarning)
            alone = racecast.forecast(count, seed=int(seed), engine="fast", draws=500)
        assert table.loc[name, "win_probability"].to_dict() == alone.win_probability.to_dict()
        assert table.loc[name, "final_share_upper"].to_dict() == alone.final_share["upper"].to_dict()


def test_both_cores_give_the_same_table_as_one():
    ballot = _ballot()
    serial = _quiet_many(ballot, seed=3, processes=1)
    pooled = _quiet_many(ballot, seed=3, processes=2, chunksize=1)
    pd.testing.assert_frame_equal(serial.drop(columns="seconds"), pooled.drop(columns="seconds"))


def test_a_list_of_counts_is_named_by_its_counts():
    ballot = list(_ballot(2).values())  # both are named "<synthetic>"
    table = _quiet_many(ballot, seed=0, processes=1)
    assert list(table.index.get_level_values("contest").unique()) == ["<synthetic> [0]", "<synthetic> [1]"]


def test_a_failing_contest_is_named_or_recorded():
    ballot = {
        "ok": _ballot(1)["contest 0"],
        "no outstanding": csv_count("batch_type,Ann,Bob\nearly_mail,10,20\n"),
    }
    with pytest.raises(ForecastInputError, match="remaining=") as err:
        _quiet_many(ballot, seed=0, processes=1, errors="raise")
    assert "no outstanding" in "".join(getattr(err.value, "__notes__", []))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = racecast.forecast_many(ballot, seed=0, processes=1, progress=False)  # errors="record"
    assert any("1 of 2 contests failed" in str(w.message) for w in caught)
    assert table.loc["ok", "error"].isna().all()
    failed = table.loc["no outstanding"]
    assert len(failed) == 1
    assert "ForecastInputError" in failed["error"].iloc[0]
    assert failed["win_probability"].isna().all()


def test_warnings_from_worker_processes_reach_the_caller(la_count):
    ballot = {"LA Nov 9": la_count[:3], "LA Nov 10": la_count[:4]}  # late mail not counted on Nov 9
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        racecast.forecast_many(ballot, seed=0, processes=2, progress=False)
    unseen = [str(w.message) for w in caught if issubclass(w.category, UnseenBatchTypeWarning)]
    assert any("'late_mail'" in m for m in unseen)  # from Nov 9's worker
    assert sum("'provisional'" in m for m in unseen) == 2  # one per contest


def test_progress_bar_counts_contests_on_stderr(capsys):
    _quiet_many(_ballot(3), seed=0, processes=1)
    assert capsys.readouterr().err == ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        racecast.forecast_many(_ballot(3), seed=0, processes=1, progress=True)
    err = capsys.readouterr().err
    assert "0/3 contests" in err
    assert err.rstrip().split("\r")[-1].startswith("forecast_many [")
    assert "3/3 contests" in err


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ForecastInputError, match="use forecast"):
        racecast.forecast_many(_ballot(1)["contest 0"])
    with pytest.raises(ForecastInputError, match=r"not a racecast\.Count"):
        racecast.forecast_many({"x": "la.csv"})
    with pytest.raises(ForecastInputError, match="engine"):
        racecast.forecast_many(_ballot(1), engine="mcmc")
    with pytest.raises(ForecastInputError, match="processes"):
        racecast.forecast_many(_ballot(1), processes=0, progress=False)


def test_a_dask_cluster_gives_the_same_table():
    distributed = pytest.importorskip("distributed", reason="pip install 'racecast[distributed]'")
    ballot = _ballot()
    serial = _quiet_many(ballot, seed=11, processes=1)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        on_dask = _quiet_many(ballot, seed=11, client=client, chunksize=2)
    pd.testing.assert_frame_equal(serial.drop(columns="seconds"), on_dask.drop(columns="seconds"))
