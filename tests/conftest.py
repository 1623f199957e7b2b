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


def doc_tables(text: str) -> dict[str, list[list[str]]]:
    """Markdown tables of a docs page by the ``<!-- table: NAME -->`` marker before them (header dropped)."""
    import re

    out: dict[str, list[list[str]]] = {}
    for m in re.finditer(r"<!-- table: (\w+) -->\n\n((?:\|.*\n)+)", text):
        lines = m.group(2).strip().splitlines()[2:]
        out[m.group(1)] = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    return out


def assert_engines_compute_the_dense_likelihood(data, settings=((0.3, 0.05), (0.02, 0.4), (0.5, 0.5))):
    """The fast Gaussian block and the compiled NUTS density are one dense normal, at each scale pair."""
    import numpy as np
    from scipy import stats

    from racecast.model import _kernel, collapsed
    from racecast.model.fast import scale_log_likelihood

    mats = collapsed._collapsed_matrices(data)
    density = _kernel._CollapsedDensity(data)
    pr = data.priors
    for a, b in settings:
        cov = mats["F"] + a**2 * mats["B"] + b**2 * mats["I_C"]
        dense = stats.multivariate_normal(cov=cov).logpdf(mats["y"])
        assert float(scale_log_likelihood(data, np.array(a), np.array(b))) == pytest.approx(dense, rel=1e-9)
        priors = sum(
            stats.halfnorm(scale=s).logpdf(x) + np.log(x) for x, s in ((a, pr.type_sd), (b, pr.batch_sd))
        )
        assert density(np.log([a, b]))[0] == pytest.approx(dense + priors, rel=1e-9)
    return mats
