"""A forecast says how it was made, reproduces from what it records, and saves and loads intact."""

from __future__ import annotations

import inspect
import json
import warnings

import numpy as np
import pandas as pd
import pytest

import racecast
from racecast import settings
from racecast.provenance import count_fingerprint

from .conftest import csv_count, quiet_forecast

THRESHOLD = (
    "batch_type,Yes,No,outstanding_late_mail\n"
    "early_mail,6000,3500,\nvote_center,9000,5200,\nlate_mail,12500,6900,9000\n"
)


def test_a_generator_seed_is_recorded_as_the_integer_that_reproduces_the_forecast(la_count):
    fc = quiet_forecast(la_count[:4], seed=np.random.default_rng(7), draws=500)
    seed = fc.settings["seed"]
    assert isinstance(seed, int)
    again = quiet_forecast(la_count[:4], seed=seed, draws=500)
    assert np.array_equal(fc.final_draws, again.final_draws)
    pd.testing.assert_series_equal(fc.win_probability, again.win_probability)


def test_no_seed_still_records_an_integer_that_reproduces_the_forecast(la_count):
    fc = quiet_forecast(la_count[:4], draws=300)
    again = quiet_forecast(la_count[:4], seed=fc.settings["seed"], draws=300)
    assert np.array_equal(fc.final_draws, again.final_draws)


def test_settings_record_versions_and_a_fingerprint_of_the_count(la_count):
    fc = quiet_forecast(la_count[:4], seed=1, draws=300)
    assert fc.settings["racecast_version"] == racecast.__version__
    assert fc.settings["versions"]["racecast"] == racecast.__version__
    assert set(fc.settings["versions"]) >= {"numpy", "pymc", "nutpie", "arviz"}
    assert fc.settings["versions"]["numpy"] == np.__version__
    assert fc.settings["count_fingerprint"] == count_fingerprint(la_count[:4])
    assert count_fingerprint(la_count[:4]) != count_fingerprint(la_count[:5])


def test_idata_holds_the_settings_once_as_json(la_count):
    fc = quiet_forecast(la_count[:4], seed=1, draws=300)
    attrs = fc.idata.attrs
    assert json.loads(attrs["racecast_settings"]) == json.loads(json.dumps(fc.settings))
    assert not any(str(v).startswith('"') for v in attrs.values())  # nothing JSON-encoded twice


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"called": "Karen Bass"},
        {"rule": "majority"},
        {"interval": 0.5, "outstanding_sd": 0.3},
    ],
    ids=["plurality", "called", "majority", "options"],
)
def test_a_saved_forecast_reads_back_with_identical_tables(la_count, tmp_path, kwargs):
    fc = quiet_forecast(la_count[:4], seed=3, draws=400, **kwargs)
    path = tmp_path / "forecast.nc"
    fc.to_netcdf(path)
    back = racecast.read_forecast(path)
    pd.testing.assert_series_equal(back.win_probability, fc.win_probability)
    for table in ("final_share", "final_votes", "outcomes", "remaining"):
        pd.testing.assert_frame_equal(getattr(back, table), getattr(fc, table))
    assert back.settings == json.loads(json.dumps(fc.settings))
    assert back.to_dict() == fc.to_dict()
    assert back.summary() == fc.summary()
    assert back.count.name == fc.count.name
    assert count_fingerprint(back.count) == fc.settings["count_fingerprint"]


def test_a_saved_threshold_forecast_keeps_its_rule(tmp_path):
    fc = quiet_forecast(csv_count(THRESHOLD), seed=2, draws=300, rule="threshold:2/3")
    fc.to_netcdf(tmp_path / "measure.nc")
    back = racecast.read_forecast(tmp_path / "measure.nc")
    assert back.rule == fc.rule
    pd.testing.assert_frame_equal(back.outcomes, fc.outcomes)


def test_reading_a_file_that_is_not_a_saved_forecast_is_an_input_error(tmp_path):
    path = tmp_path / "not_a_forecast.nc"
    path.write_bytes(b"this is not netCDF")
    with pytest.raises(racecast.CountFormatError, match="not a forecast saved by racecast"):
        racecast.read_forecast(path)


def test_one_defaults_table_serves_every_entry_point():
    for fn in (racecast.forecast, racecast.replay, racecast.forecast_many):
        params = inspect.signature(fn).parameters
        if "engine" in params:
            assert params["engine"].default == settings.DEFAULT_ENGINE, fn
        if "draws" in params:
            assert params["draws"].default == settings.DEFAULT_DRAWS, fn
    fc_params = inspect.signature(racecast.forecast).parameters
    assert fc_params["interval"].default == settings.DEFAULT_INTERVAL
    assert fc_params["outstanding_sd"].default == settings.DEFAULT_OUTSTANDING_SD


def test_nuts_settings_are_validated_once_with_a_clear_error(la_count):
    with pytest.raises(racecast.ForecastInputError, match="unknown setting"):
        quiet_forecast(la_count[:4], engine="nuts", nuts={"chain": 2})
    with pytest.raises(racecast.ForecastInputError, match="target_accept"):
        quiet_forecast(la_count[:4], engine="nuts", nuts={"target_accept": 1.5})


def test_the_forecast_module_name_is_not_shadowed():
    import importlib

    assert callable(racecast.forecast)
    assert importlib.import_module("racecast.pipeline").forecast is racecast.forecast
    assert importlib.import_module("racecast.plot").plot_forecast is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert racecast.plot.plot_forecast.__module__ == "racecast.plot"


def test_a_forecast_with_every_simulation_term_on_records_them_and_reproduces_from_the_record(la_count):
    """The record is the whole recipe: ``Priors(**settings['priors'])`` and the seed give the same draws."""
    priors = racecast.Priors(
        remainder_sd=0.1, revision_abs=0.5, outstanding_df=4.0, unseen_type_df=4.0, wander_sd=0.3
    )
    fc = quiet_forecast(la_count[:4], seed=3, draws=400, priors=priors)
    recorded = fc.settings["priors"]
    assert recorded["wander_sd"] == 0.3
    again = quiet_forecast(
        la_count[:4], seed=fc.settings["seed"], draws=400, priors=racecast.Priors(**recorded)
    )
    assert np.array_equal(fc.final_draws, again.final_draws)
    plain = quiet_forecast(la_count[:4], seed=3, draws=400)
    assert not np.array_equal(fc.final_draws, plain.final_draws)


@pytest.mark.parametrize(
    "column",
    ["outstanding_total", "expected_total"],
)
def test_a_saved_forecast_keeps_the_totals_it_was_made_from_and_rebuilds_from_its_count(tmp_path, column):
    """A published total or a projection changes the forecast: the file keeps it, the fingerprint sees it."""
    text = (
        f"batch_type,Ann,Bob,ballots_counted,{column}\n"
        "early_mail,600,400,1000,\nlate_mail,900,1100,2000,{}\n"
    )
    count, other = csv_count(text.format(3000)), csv_count(text.format(5000))
    assert count_fingerprint(count) != count_fingerprint(other)
    fc = racecast.forecast(count, seed=3, draws=400)
    path = tmp_path / "forecast.nc"
    fc.to_netcdf(path)
    back = racecast.read_forecast(path)
    np.testing.assert_array_equal(getattr(back.count, column), getattr(count, column))
    assert count_fingerprint(back.count) == fc.settings["count_fingerprint"]
    again = racecast.forecast(back.count, seed=back.settings["seed"], draws=400)
    assert np.array_equal(again.final_draws, fc.final_draws)
    pd.testing.assert_frame_equal(back.remaining, fc.remaining)
