"""Place effects (``Priors.place_sd``, ``racecast.model.place``): the rule, the engines, what it does."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

import racecast
from racecast.errors import ForecastInputError
from racecast.model import _kernel, collapsed
from racecast.model.data import build_model_data
from racecast.model.place import place_design, remainder_mix

from .conftest import assert_engines_compute_the_dense_likelihood, doc_tables


def _count(places: list[str], votes: list[tuple[int, int]], types: list[str]) -> racecast.Count:
    """A two-candidate count from per-release increments (candidates ``D``, ``R``), with places."""
    cum = np.cumsum(np.array(votes), axis=0)
    rows = [
        {"release": r + 1, "batch_type": t, "candidate": c, "votes": int(v), "place": p}
        for r, (p, t) in enumerate(zip(places, types, strict=True))
        for c, v in zip("DR", cum[r], strict=True)
    ]
    return racecast.Count.from_frame(pd.DataFrame(rows))


def _quiet_forecast(count: racecast.Count, **kw: object) -> racecast.Forecast:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        return racecast.forecast(count, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the rule
def test_a_batch_loads_on_its_place_and_one_with_no_place_on_the_counted_mix():
    design = place_design(["X", None, "Y", "X"], np.array([300.0, 5000.0, 100.0, 100.0]))
    assert design is not None
    assert design.names == ("X", "Y")
    np.testing.assert_allclose(design.weight, [0.8, 0.2])  # placed votes only: 400 in X, 100 in Y
    np.testing.assert_allclose(design.loading, [[1, 0], [0.8, 0.2], [0, 1], [1, 0]])


def test_no_place_no_design():
    assert place_design([None, None], np.array([10.0, 20.0])) is None


def test_the_remainders_mix_is_centred_on_the_counted_mix_with_total_concentration_one():
    w = np.array([0.5, 0.3, 0.2])
    mix = remainder_mix(w, 200_000, np.random.default_rng(0))
    np.testing.assert_allclose(mix.sum(axis=1), 1.0)
    np.testing.assert_allclose(mix.mean(axis=0), w, atol=0.003)
    np.testing.assert_allclose(mix.var(axis=0), w * (1 - w) / 2, rtol=0.03)
    np.testing.assert_array_equal(
        remainder_mix(np.array([1.0]), 3, np.random.default_rng(0)), np.ones((3, 1))
    )


def test_place_sd_must_be_a_finite_number_not_below_zero():
    for bad in (-0.1, float("inf"), "0.2"):
        with pytest.raises(ForecastInputError, match="place_sd"):
            racecast.Priors(place_sd=bad)  # type: ignore[arg-type]


def test_a_scale_must_be_positive_and_place_sd_may_be_zero():
    assert racecast.Priors(place_sd=0.0).invalid_scales() == {}
    assert racecast.Priors(type_sd=-0.1, drift_sd=0.0).invalid_scales() == {"type_sd": -0.1, "drift_sd": 0.0}
    count = _count(UTAH_LIKE["places"], UTAH_LIKE["votes"], UTAH_LIKE["types"])
    with pytest.raises(ForecastInputError, match=r"prior scales must be positive and finite.*drift_sd"):
        racecast.forecast(count, priors=racecast.Priors(drift_sd=0.0), remaining={"provisional": 1_000})


# --------------------------------------------------------------------------- the engines
def _placed_data(place_sd: float):
    rng = np.random.default_rng(11)
    places, votes, types = [], [], []
    for k in range(12):
        place = ["city", "farm", "suburb", None][k % 4]
        lean = {"city": 0.62, "farm": 0.35, "suburb": 0.5, None: 0.52}[place] + rng.normal(0, 0.02)
        n = rng.integers(2_000, 20_000)
        votes.append((int(n * lean), int(n * (1 - lean))))
        places.append(place)
        types.append("early_mail" if k < 7 else "late_mail")
    count = _count(places, votes, types)
    types_all = ("early_mail", "late_mail", "provisional")
    return build_model_data(
        count, types_all, dict.fromkeys(types_all, 20_000.0), racecast.Priors(place_sd=place_sd)
    )


def test_both_engines_compute_the_dense_likelihood_with_place_effects():
    """The fast block and NUTS's compiled density are one normal with ``place_sd^2 L L'`` in it."""
    data = _placed_data(0.4)
    assert data.place_loading is not None
    assert data.place_loading.shape == (12, 3)
    mats = collapsed._collapsed_matrices(data)
    without = collapsed._collapsed_matrices(dataclasses.replace(data, place_loading=None, place_weight=None))
    np.testing.assert_allclose(
        mats["F"] - without["F"], 0.4**2 * np.kron(data.place_loading @ data.place_loading.T, np.eye(1) * 2)
    )
    assert_engines_compute_the_dense_likelihood(data)


@pytest.mark.slow
def test_the_pymc_model_is_the_compiled_density_with_place_effects():
    from racecast.model import nuts

    data = _placed_data(0.4)
    density = _kernel._CollapsedDensity(data)
    logp = nuts._pymc_model(data).compile_logp()
    rng = np.random.default_rng(2)
    for _ in range(4):
        theta = rng.uniform(-5.0, 0.5, density.n_dim)
        point = {f"{n}_log__": theta[i] for i, n in enumerate(density.names)}
        assert density(theta)[0] == pytest.approx(float(logp(point)), rel=1e-8, abs=1e-8)


# --------------------------------------------------------------------------- what it does
UTAH_LIKE = {
    # a big county leaning D and a small one leaning R, in two kinds of ballots; the last
    # release is the small county's provisional ballots, and the rest of them is outstanding
    "places": ["big", "small", "big", "small", "big", "small"],
    "votes": [
        (30_000, 20_000),
        (4_000, 8_000),
        (26_000, 18_000),
        (3_000, 6_500),
        (9_000, 6_500),
        (700, 1_500),
    ],
    "types": ["mail", "mail", "mail", "mail", "mail", "provisional"],
}


def test_a_count_with_no_place_is_unchanged_at_any_place_sd():
    count = _count([""] * 6, UTAH_LIKE["votes"], UTAH_LIKE["types"])
    kw = {"seed": 3, "engine": "fast", "draws": 2000, "remaining": {"provisional": 8_000}}
    a = _quiet_forecast(count, **kw)
    b = _quiet_forecast(count, priors=racecast.Priors(place_sd=0.5), **kw)
    np.testing.assert_array_equal(a.final_draws, b.final_draws)
    assert b.posterior.place_shift is None


def test_the_default_reads_places_and_racecast_0_1_does_not():
    count = _count(UTAH_LIKE["places"], UTAH_LIKE["votes"], UTAH_LIKE["types"])
    kw = {"seed": 3, "engine": "fast", "draws": 500, "remaining": {"provisional": 8_000}}
    assert _quiet_forecast(count, **kw).posterior.place_shift is not None
    assert _quiet_forecast(count, priors=racecast.Priors.model_only(), **kw).posterior.place_shift is None


def test_what_is_left_leans_like_the_mix_of_places_not_like_the_place_counted_last():
    """The small county's provisional ballots lean R; what is left of them is mostly the big county's."""
    count = _count(UTAH_LIKE["places"], UTAH_LIKE["votes"], UTAH_LIKE["types"])
    kw = {"seed": 5, "engine": "fast", "draws": 4000, "remaining": {"provisional": 20_000}}
    added = {}
    for sd in (0.0, 0.5):
        fc = _quiet_forecast(count, priors=racecast.Priors(place_sd=sd), **kw)
        final = fc.final_draws
        added[sd] = float(
            np.median((final[:, 0] - count.votes[-1][0]) / (final.sum(axis=1) - count.votes[-1].sum()))
        )
    # without places the remainder leans like the one provisional batch (32% D); with them
    # it is mostly the big county's (60% D in every kind of ballot)
    assert added[0.0] < 0.45
    assert added[0.5] > added[0.0] + 0.1


def test_the_place_shift_is_saved_with_the_forecast(tmp_path):
    count = _count(UTAH_LIKE["places"], UTAH_LIKE["votes"], UTAH_LIKE["types"])
    fc = _quiet_forecast(
        count,
        seed=1,
        engine="fast",
        draws=300,
        priors=racecast.Priors(place_sd=0.3),
        remaining={"provisional": 5_000},
    )
    path = tmp_path / "fc.nc"
    fc.to_netcdf(path)
    again = racecast.read_forecast(path)
    assert again.posterior.place_shift is not None
    np.testing.assert_allclose(again.posterior.place_shift, fc.posterior.place_shift)


@pytest.mark.slow
def test_nuts_and_the_fast_engine_agree_with_place_effects():
    count = _count(UTAH_LIKE["places"], UTAH_LIKE["votes"], UTAH_LIKE["types"])
    kw = {
        "seed": 7,
        "draws": 2000,
        "priors": racecast.Priors(place_sd=0.5),
        "remaining": {"provisional": 20_000},
    }
    fast = _quiet_forecast(count, engine="fast", **kw)
    nuts = _quiet_forecast(count, engine="nuts", **kw)
    assert nuts.posterior.engine == "nuts"
    assert nuts.posterior.place_shift is not None
    assert nuts.final_share.loc["D", "median"] == pytest.approx(
        fast.final_share.loc["D", "median"], abs=0.005
    )
    assert nuts.win_probability["D"] == pytest.approx(fast.win_probability["D"], abs=0.05)


def test_the_place_tables_of_the_model_page_are_the_benchmarks_recorded_result():
    """docs/model.md's place tables are what ``benchmarks/place_effects.py`` wrote."""
    import json
    from pathlib import Path

    docs = Path(__file__).resolve().parents[1] / "docs"
    recorded = json.loads((docs / "place_effects.json").read_text(encoding="utf-8"))["tables"]
    shown = doc_tables((docs / "model.md").read_text(encoding="utf-8"))
    for name, table in recorded.items():
        assert shown[name] == [[str(c) for c in row] for row in table["display"]], name
