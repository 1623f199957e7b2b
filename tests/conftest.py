"""Shared fixtures: the bundled LA count and a generator of synthetic counts."""

from __future__ import annotations

import io
import warnings

import pytest

import racecast


@pytest.fixture(scope="session")
def la_count() -> racecast.Count:
    return racecast.read_count(racecast.example_path("la_mayor_2022_general"))


def csv_count(text: str, name: str = "test.csv") -> racecast.Count:
    """Read a count from CSV text."""
    return racecast.read_count(io.StringIO(text), name=name)


def quiet_forecast(count: racecast.Count, **kwargs) -> racecast.Forecast:
    """Forecast with the 'type not counted yet' warning silenced (tests that want it check it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.UnseenBatchTypeWarning)
        return racecast.forecast(count, **kwargs)
