"""Batch size within a place (``Priors.batch_size_floor``): the data, the rule, both engines.

A batch's extra variance is ``sigma_batch^2 * (floor + (1 - floor) * n_ref / n)``, ``n_ref``
the median counted batch of its type and place (``docs/model.md``, *Batch size and place*).
These tests hold the rule to hand-computed values, the place column to what the files say,
the two engines to one likelihood, and ``floor = 1`` to racecast as it was.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

import racecast
from racecast.errors import CountFormatError, ForecastInputError
from racecast.model import _kernel
from racecast.model.batch_size import batch_places, batch_size_scale
from racecast.model.data import build_model_data

from .conftest import assert_engines_compute_the_dense_likelihood

NYT_HEADER = (
    "state,timestamp,leading_candidate_name,trailing_candidate_name,leading_candidate_votes,"
    "trailing_candidate_votes,vote_differential,votes_remaining,new_votes,counties_partition"
)


def _tidy(places: list[str], cumulative: list[tuple[int, int]], types: list[str]) -> pd.DataFrame:
    """The tidy table (one row per release and candidate) of a two-candidate count with places."""
    return pd.DataFrame(
        [
            {"release": r + 1, "batch_type": t, "candidate": c, "votes": v, "place": p}
            for r, (p, votes, t) in enumerate(zip(places, cumulative, types, strict=True))
            for c, v in zip("AB", votes, strict=True)
        ]
    )


def _count(places: list[str], votes: list[tuple[int, int]], types: list[str] | None = None) -> racecast.Count:
    """A two-candidate count from per-release increments, with a ``place`` column."""
    cum = [tuple(int(x) for x in row) for row in np.cumsum(np.array(votes), axis=0)]
    return racecast.Count.from_frame(_tidy(places, cum, types or ["mixed"] * len(votes)))


def _without_places(count: racecast.Count) -> racecast.Count:
    return dataclasses.replace(count, text=count.text.drop(columns="place"))


# --------------------------------------------------------------------------- the rule
def test_scale_is_the_floor_plus_the_rest_times_the_places_median_over_the_batch():
    votes = np.array([1000.0, 4000.0, 500.0, 9000.0, 300.0])
    places = ["X", "X", None, "X", "Y"]
    g = batch_size_scale(votes, np.zeros(5, dtype=np.int64), places, 0.25)
    assert g is not None
    median_x = 4000.0
    np.testing.assert_allclose(
        g, [0.25 + 0.75 * median_x / 1000, 0.25 + 0.75, 1.0, 0.25 + 0.75 * median_x / 9000, 1.0]
    )


def test_the_reference_is_per_type_and_place_and_floor_one_changes_nothing():
    votes = np.array([100.0, 300.0, 100.0, 900.0])
    types = np.array([0, 0, 1, 1])
    g = batch_size_scale(votes, types, ["X"] * 4, 0.5)
    assert g is not None
    np.testing.assert_allclose(
        g, [0.5 + 0.5 * 200 / 100, 0.5 + 0.5 * 200 / 300, 0.5 + 0.5 * 500 / 100, 0.5 + 0.5 * 500 / 900]
    )
    assert batch_size_scale(votes, types, ["X"] * 4, 1.0) is None
    assert batch_size_scale(votes, types, [None] * 4, 0.3) is None
    assert batch_size_scale(votes, types, ["X", "Y", "Z", "W"], 0.3) is None  # no place has two batches


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5, float("nan")])
def test_a_floor_outside_zero_to_one_is_refused(bad):
    with pytest.raises(ForecastInputError, match="batch_size_floor"):
        racecast.Priors(batch_size_floor=bad)


def test_a_batch_has_the_place_its_releases_agree_on():
    # release 3 lowers A (a correction): it is merged into release 2's batch
    cum = [(100, 100), (250, 200), (240, 260), (400, 300), (500, 380)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        count = racecast.Count.from_frame(_tidy(["X", "Y", "Z", " X ", ""], cum, ["mixed"] * 5))
    b = count.batches()
    assert list(zip(b["first"], b["last"], strict=True)) == [(0, 0), (1, 2), (3, 3), (4, 4)]
    assert batch_places(count, b) == ["X", None, "X", None]
    no_place = _without_places(count)
    assert batch_places(no_place, no_place.batches()) == [None] * 4


# --------------------------------------------------------------------------- the data
def test_a_count_file_keeps_its_place_column_as_text(tmp_path):
    p = tmp_path / "count.csv"
    p.write_text("batch_type,A,B,place\nmixed,100,90,Maricopa\nmixed,300,200,\nmixed,400,380,Pima\n")
    count = racecast.read_count(p)
    assert count.candidates == ("A", "B")
    assert list(count.text["place"]) == ["Maricopa", "", "Pima"]
    assert list(count.releases["place"]) == ["Maricopa", "", "Pima"]


def _feed(tmp_path, partitions: list[str]):
    rows = []
    a = b = 0
    for k, part in enumerate(partitions):
        a, b = a + 600 + 10 * k, b + 500
        rows.append(f'Testland (EV: 3),2020-11-0{4 + k} 12:00:00,A,B,{a},{b},{a - b},1000,1100,"{part}"')
    p = tmp_path / "feed.csv"
    p.write_text("\n".join([NYT_HEADER, *rows[::-1]]) + "\n")
    return p


def test_nyt_place_is_the_county_with_most_of_the_update_or_blank(tmp_path):
    p = _feed(
        tmp_path,
        ["{}", "{'Maricopa': 1100}", "{'Coconino': 400, 'Pinal': 700}", "{'Pima': 900, 'Gila': 200}"],
    )
    count = racecast.read_nyt2020(p, state="Testland")
    # Pinal has 64% of its update (below 80%): no place; Pima 82%
    assert list(count.text["place"]) == ["", "Maricopa", "", "Pima"]


def test_nyt_a_partition_that_is_not_a_dict_of_votes_is_named_by_line_and_column(tmp_path):
    p = _feed(tmp_path, ["{}", "{'Maricopa': 'many'}"])
    with pytest.raises(CountFormatError, match="counties_partition") as err:
        racecast.read_nyt2020(p, state="Testland")
    assert err.value.row == 2
    assert err.value.column == "counties_partition"


# --------------------------------------------------------------------------- the engines
def _placed_data(floor: float):
    rng = np.random.default_rng(5)
    places, votes, types = [], [], []
    for k in range(14):
        place = ["big", "small", "mid"][k % 3]
        n = {"big": 40_000, "small": 800, "mid": 6_000}[place] * rng.uniform(0.3, 1.7)
        share = {"big": 0.56, "small": 0.35, "mid": 0.47}[place] + rng.normal(0, 0.03)
        votes.append((int(n * share), int(n * (1 - share))))
        places.append(place)
        types.append("early_mail" if k < 8 else "election_day")
    count = _count(places, votes, types)
    types_all = ("early_mail", "election_day", "late_mail")
    pr = racecast.Priors(batch_size_floor=floor)
    return build_model_data(count, types_all, dict.fromkeys(types_all, 30_000.0), pr)


def test_both_engines_compute_the_dense_likelihood_with_scaled_batch_variance():
    """The fast engine's Gaussian block and NUTS's compiled density are one normal, ``I_C`` scaled."""
    data = _placed_data(0.2)
    assert data.batch_scale is not None
    assert np.ptp(data.batch_scale) > 1.0
    mats = assert_engines_compute_the_dense_likelihood(data)
    # the batch term is each batch's block of corr times its scale
    d = data.y.shape[1]
    block = mats["I_C"][:d, :d]
    np.testing.assert_allclose(block, data.batch_scale[0] * (np.eye(d) + np.ones((d, d))))


@pytest.mark.slow
def test_the_pymc_model_is_the_compiled_density_with_scaled_batch_variance():
    from racecast.model import nuts

    data = _placed_data(0.2)
    density = _kernel._CollapsedDensity(data)
    pm_model = nuts._pymc_model(data)
    logp = pm_model.compile_logp()
    rng = np.random.default_rng(1)
    for _ in range(4):
        theta = rng.uniform(-5.0, 0.5, density.n_dim)
        point = {f"{n}_log__": theta[i] for i, n in enumerate(density.names)}
        assert density(theta)[0] == pytest.approx(float(logp(point)), rel=1e-8, abs=1e-8)


# --------------------------------------------------------------------------- what it does
def test_floor_one_is_racecast_as_before_bit_for_bit():
    places = ["X", "Y", "X", "X", "Y", "X"]
    votes = [(5000, 4000), (300, 500), (9000, 8500), (800, 900), (400, 420), (12000, 11000)]
    with_places = _count(places, votes)
    without = _without_places(with_places)
    # place effects (Priors.place_sd) read places on their own: off here, this is about the floor
    kw = {"seed": 3, "engine": "fast", "draws": 2000, "remaining": {"mixed": 20_000}}
    kw["priors"] = racecast.Priors(place_sd=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        a = racecast.forecast(with_places, **kw)
        b = racecast.forecast(without, **kw)
    np.testing.assert_array_equal(a.final_draws, b.final_draws)


def test_a_places_large_batches_count_for_more_than_its_small_ones():
    """Within one place, the type lean moves toward the large batch as the floor falls."""
    places = ["X"] * 4
    votes = [(30_000, 30_000), (300, 700), (400, 600), (350, 650)]  # one large 50%, three small ~35%
    count = _count(places, votes)
    kw = {"seed": 4, "engine": "fast", "draws": 4000, "remaining": {"mixed": 40_000}}
    share = {}
    for floor in (1.0, 0.1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", racecast.RacecastWarning)
            fc = racecast.forecast(count, priors=racecast.Priors(batch_size_floor=floor), **kw)
        share[floor] = float(fc.final_share.loc["A", "median"])
    counted = 31_050 / 62_000
    # the remainder leans like the batches: at floor 1 the small batches' 35% pull it down,
    # at 0.1 the large batch's 50% (relative to its place's median) holds it near the counted share
    assert share[0.1] > share[1.0] + 0.01
    assert share[0.1] < counted + 0.01


def test_places_change_nothing_in_a_count_whose_places_each_have_one_batch():
    count = _count(["X", "Y", "Z"], [(5000, 4000), (300, 500), (9000, 8500)])
    data = build_model_data(count, ("mixed",), {"mixed": 1e4}, racecast.Priors(batch_size_floor=0.1))
    assert data.batch_scale is None
    assert dataclasses.replace(data).batch_scale is None


def test_a_ballots_release_place_reaches_every_contest(tmp_path):
    (tmp_path / "releases.csv").write_text(
        "release,batch_type,place\n1,mixed,North\n2,mixed,\n3,mixed,North\n"
    )
    (tmp_path / "contests.csv").write_text("contest\nMayor\nMeasure A\n")
    rows = ["release,contest,candidate,votes"]
    for r, (a, b, y, n) in enumerate(
        [(100, 90, 50, 40), (300, 200, 120, 100), (400, 380, 200, 150)], start=1
    ):
        rows += [f"{r},Mayor,A,{a}", f"{r},Mayor,B,{b}", f"{r},Measure A,YES,{y}", f"{r},Measure A,NO,{n}"]
    (tmp_path / "results.csv").write_text("\n".join(rows) + "\n")
    ballot = racecast.read_ballot(tmp_path)
    for name in ballot.contests:
        count = ballot.contest(name)
        assert list(count.text["place"]) == ["North", "", "North"]
        assert batch_places(count, count.batches()) == ["North", None, "North"]


def test_a_priors_file_carries_the_floor_and_refuses_one_out_of_range(tmp_path):
    from racecast.priors_file import read_priors, write_priors

    p = tmp_path / "priors.json"
    write_priors(p, racecast.Priors(batch_size_floor=0.3))
    priors, _ = read_priors(p)
    assert priors.batch_size_floor == 0.3
    p.write_text('{"batch_size_floor": 2.0}')
    with pytest.raises(ForecastInputError, match=r"priors\.json: Priors\.batch_size_floor must be in"):
        read_priors(p)


def test_a_tidy_release_whose_rows_name_two_places_is_refused_at_the_row():
    df = _tidy(["X", "X"], [(100, 90), (200, 150)], ["mixed", "mixed"])
    df.loc[3, "place"] = "Y"  # release 2, candidate B
    with pytest.raises(
        CountFormatError, match="release 2 has rows with different place values 'X' and 'Y'"
    ) as err:
        racecast.Count.from_frame(df)
    assert err.value.column == "place"
    assert err.value.row == 4  # the release's first row in df.to_csv(index=False)
    df.loc[3, "place"] = None  # a blank row repeats nothing and contradicts nothing
    assert list(racecast.Count.from_frame(df).text["place"]) == ["X", "X"]
