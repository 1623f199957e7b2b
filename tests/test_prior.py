"""Priors from history: prior_from, the Prior object, and how forecast() uses it."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal

import racecast
from racecast import model as M
from racecast.model import collapsed, gaussian
from racecast.prior import DEFAULT_INFLATION

from .conftest import csv_count, quiet_forecast

LA_SIDES = {"Karen Bass": "progressive", "Rick Caruso": "centrist"}


def count_from_batches(batches, candidates=("A", "B"), outstanding=None) -> racecast.Count:
    """A count from a list of ``(batch_type, votes per candidate)`` batches."""
    votes = np.cumsum(np.array([v for _, v in batches]), axis=0)
    rows = []
    for r, ((t, _), cum) in enumerate(zip(batches, votes, strict=True), start=1):
        for c, v in zip(candidates, cum, strict=True):
            rows.append({"release": r, "batch_type": t, "candidate": c, "votes": int(v)})
    return racecast.Count.from_frame(pd.DataFrame(rows), outstanding=outstanding, name="<test>")


def simulate_batches(rng, types, scores, sizes, batch_sd=0.0):
    """Multinomial batches: type ``t`` has candidate scores ``scores[t]`` (+ batch noise)."""
    out = []
    for t, n_votes in zip(types, sizes, strict=True):
        for n in n_votes:
            s = np.asarray(scores[t], float) + batch_sd * rng.standard_normal(len(scores[t]))
            p = np.exp(s - s.max())
            out.append((t, rng.multinomial(int(n), p / p.sum())))
    return out


# ---------------------------------------------------------------------------
# what prior_from measures
# ---------------------------------------------------------------------------
HISTORY = """release,batch_type,A,B,outstanding_late_mail
1,early_mail,600,400,300
2,vote_center,900,1100,300
3,late_mail,1150,1150,0
"""


def test_prior_from_measures_each_types_log_odds_shift_relative_to_the_mean_of_the_types():
    prior = racecast.prior_from(csv_count(HISTORY), inflation=0.2)
    # batches: early (600, 400), vote_center (300, 700), late (250, 50)
    lo = {
        t: math.log((a + 0.5) / (b + 0.5))
        for t, (a, b) in {"early_mail": (600, 400), "vote_center": (300, 700), "late_mail": (250, 50)}.items()
    }
    centre = sum(lo.values()) / 3
    tab = prior.log_odds_shift("A", "B")
    assert prior.types == ("early_mail", "vote_center", "late_mail")
    for t in prior.types:
        assert tab.loc[t, "mean"] == pytest.approx(lo[t] - centre, abs=1e-12)
    # sampling sd of a late-mail shift (delta method) and the inflation in quadrature
    inv = {
        t: (1 / (a + 0.5), 1 / (b + 0.5))
        for t, (a, b) in {"early_mail": (600, 400), "vote_center": (300, 700), "late_mail": (250, 50)}.items()
    }
    var_late = (2 / 3) ** 2 * sum(inv["late_mail"]) + sum(
        sum(inv[t]) for t in ("early_mail", "vote_center")
    ) / 9
    assert tab.loc["late_mail", "sd"] == pytest.approx(math.sqrt(var_late + 0.2**2), rel=1e-9)
    assert tab.loc["late_mail", "lower"] < tab.loc["late_mail", "mean"] < tab.loc["late_mail", "upper"]


def test_sides_map_a_multi_candidate_primary_onto_a_two_candidate_general():
    primary = csv_count(
        """release,batch_type,Ann,Bob,Cyd,Dee
1,vote_center,400,500,300,100
2,late_mail,900,800,500,200
"""
    )
    sides = {"Ann": "left", "Dee": "left", "Bob": "right", "Eve": "left", "Fay": "right"}
    prior = racecast.prior_from(primary, sides=sides)
    # left = Ann + Dee, right = Bob; Cyd has no side and is left out
    vc = math.log((500 + 0.5) / (500 + 0.5))
    late = math.log((600 + 0.5) / (300 + 0.5))
    assert prior.sides == ("left", "right")
    assert prior.log_odds_shift("left", "right").loc["late_mail", "mean"] == pytest.approx((late - vc) / 2)
    assert prior.history[0]["candidates_left_out"] == ["Cyd"]
    # the general's candidates (Eve, Fay) are mapped through the same sides
    general = csv_count(
        """release,batch_type,Eve,Fay,outstanding_late_mail
1,vote_center,5000,5200,8000
"""
    )
    mean, sd = prior.model_arrays(general.candidates, general.batch_types)
    assert general.batch_types == ("vote_center", "late_mail")
    assert mean[:, 0] == pytest.approx([-(late - vc) / 2, (late - vc) / 2])
    assert sd == pytest.approx(prior.sd / math.sqrt(2))


def test_types_can_be_restricted_and_renamed():
    count = csv_count(HISTORY)
    full = racecast.prior_from(count)
    only_late = racecast.prior_from(count, types=["late_mail"])
    assert only_late.types == ("late_mail",)
    # covering fewer types does not move the contest centre
    assert only_late.log_odds_shift("A", "B").loc["late_mail", "mean"] == pytest.approx(
        full.log_odds_shift("A", "B").loc["late_mail", "mean"]
    )
    with pytest.raises(racecast.ForecastInputError, match="none of the requested types"):
        racecast.prior_from(count, types=["absentee"])
    pooled = racecast.prior_from(
        count,
        types={"early_mail": "election_night", "vote_center": "election_night", "late_mail": "late_mail"},
    )
    night = math.log((900 + 0.5) / (1100 + 0.5))
    late = math.log((250 + 0.5) / (50 + 0.5))
    assert pooled.types == ("election_night", "late_mail")
    assert pooled.log_odds_shift("A", "B").loc["late_mail", "mean"] == pytest.approx((late - night) / 2)


def test_several_counts_are_pooled_as_exchangeable_elections():
    h1 = csv_count("release,batch_type,A,B\n1,vote_center,5000,5000\n2,late_mail,11000,9000\n", name="h1")
    h2 = csv_count("release,batch_type,A,B\n1,vote_center,5000,5000\n2,late_mail,10000,10000\n", name="h2")
    infl = 0.3
    prior = racecast.prior_from([h1, h2], inflation=infl)
    tau2 = infl**2 / 2

    def one(v):  # late-mail shift and its sampling variance by hand: two types, each cell weighs 1/4
        lo = [math.log((a + 0.5) / (b + 0.5)) for a, b in v]
        return (lo[1] - lo[0]) / 2, 0.25 * sum(1 / (x + 0.5) for pair in v for x in pair)

    s1, v1 = one([(5000, 5000), (6000, 4000)])
    s2, v2 = one([(5000, 5000), (5000, 5000)])
    w1, w2 = 1 / (v1 + tau2), 1 / (v2 + tau2)
    tab = prior.log_odds_shift("A", "B")
    assert tab.loc["late_mail", "mean"] == pytest.approx((w1 * s1 + w2 * s2) / (w1 + w2), rel=1e-6)
    assert tab.loc["late_mail", "sd"] == pytest.approx(math.sqrt(1 / (w1 + w2) + tau2), rel=1e-6)
    # however many elections agree, a new one can still differ: the sd never falls below inflation / sqrt(2)
    many = racecast.prior_from([h2] * 50, inflation=infl)
    assert many.sd.min() >= infl / math.sqrt(2)
    # one count: sampling sd and inflation in quadrature
    assert racecast.prior_from(h1, inflation=infl).sd[1] == pytest.approx(math.sqrt(v1 + infl**2), rel=1e-9)


def test_prior_from_recovers_a_known_type_shift_within_its_interval_at_the_nominal_rate():
    """With a negligible inflation the interval is the sampling interval: it must cover at ~90%."""
    rng = np.random.default_rng(20221108)
    hits, n_sims = 0, 250
    types = ("early_mail", "vote_center", "late_mail")
    for _ in range(n_sims):
        scores = {t: rng.normal(0.0, 0.4, 2) for t in types}
        sizes = [rng.integers(500, 5000, size=int(rng.integers(1, 4))) for _ in types]
        prior = racecast.prior_from(
            count_from_batches(simulate_batches(rng, types, scores, sizes)), inflation=1e-9
        )
        lo = {t: scores[t][0] - scores[t][1] for t in types}
        truth = lo["late_mail"] - np.mean(list(lo.values()))
        row = prior.log_odds_shift("A", "B", interval=0.9).loc["late_mail"]
        hits += row["lower"] <= truth <= row["upper"]
    assert 0.85 <= hits / n_sims <= 0.95  # +-2.8 binomial sds; a sampling sd off by 1.5x fails


def test_prior_from_recovers_the_shift_of_a_realistic_count_within_its_default_interval():
    """Batch-to-batch noise and uneven batch sizes: the realised shift is close to the
    generating one and inside the default (inflated) interval."""
    rng = np.random.default_rng(7)
    types = ("early_mail", "vote_center", "late_mail")
    errors, inside = [], 0
    for _ in range(100):
        scores = {t: rng.normal(0.0, 0.4, 3) for t in types}
        sizes = [np.rint(rng.lognormal(9, 0.6, size=int(rng.integers(2, 8)))) for _ in types]
        count = count_from_batches(
            simulate_batches(rng, types, scores, sizes, batch_sd=0.05), ("A", "B", "C")
        )
        prior = racecast.prior_from(count)
        lo = {t: scores[t][0] - scores[t][2] for t in types}
        truth = lo["late_mail"] - np.mean(list(lo.values()))
        row = prior.log_odds_shift("A", "C").loc["late_mail"]
        errors.append(row["mean"] - truth)
        inside += row["lower"] <= truth <= row["upper"]
    assert inside >= 97
    assert np.median(np.abs(errors)) < 0.05


def test_la_primary_prior_is_the_late_vs_election_night_contrast():
    primary = racecast.read_count(racecast.example_path("la_mayor_2022_primary"))
    prior = racecast.prior_from(primary, sides=LA_SIDES)
    night = math.log((116688 + 0.5) / (133059 + 0.5))
    late = math.log((278511 - 116688 + 0.5) / (232490 - 133059 + 0.5))
    tab = prior.log_odds_shift("progressive", "centrist")
    assert tab.loc["late_mail", "mean"] == pytest.approx((late - night) / 2)
    assert tab.loc["vote_center", "mean"] == pytest.approx(-(late - night) / 2)
    assert tab["sd"].to_numpy() == pytest.approx(DEFAULT_INFLATION, abs=1e-3)  # sampling sd is ~0.003


# ---------------------------------------------------------------------------
# the Prior object
# ---------------------------------------------------------------------------
def test_prior_round_trips_through_json():
    primary = racecast.read_count(racecast.example_path("la_mayor_2022_primary"))
    prior = racecast.prior_from(
        [primary, csv_count(HISTORY)], sides={**LA_SIDES, "A": "progressive", "B": "centrist"}, inflation=0.3
    )
    back = racecast.Prior.from_dict(json.loads(json.dumps(prior.to_dict())))
    assert back.to_dict() == prior.to_dict()
    assert back.types == prior.types
    assert back.sides == prior.sides
    np.testing.assert_array_equal(back.shift, prior.shift)
    np.testing.assert_array_equal(back.sd, prior.sd)
    assert str(back) == str(prior)


def test_a_round_tripped_prior_gives_the_same_forecast(la_count):
    primary = racecast.read_count(racecast.example_path("la_mayor_2022_primary"))
    prior = racecast.prior_from(primary, sides=LA_SIDES)
    back = racecast.Prior.from_dict(json.loads(json.dumps(prior.to_dict())))
    a = quiet_forecast(la_count[:3], seed=3, engine="fast", draws=500, prior=prior)
    b = quiet_forecast(la_count[:3], seed=3, engine="fast", draws=500, prior=back)
    np.testing.assert_array_equal(a.final_draws, b.final_draws)
    assert a.settings["prior"] == prior.to_dict()
    json.dumps(a.to_dict())


def test_prior_prints_its_shifts_and_sides():
    primary = racecast.read_count(racecast.example_path("la_mayor_2022_primary"))
    text = str(racecast.prior_from(primary, sides=LA_SIDES))
    assert "late_mail" in text
    assert "+0.309" in text
    assert "Karen Bass -> progressive" in text
    assert "inflation" in repr(racecast.prior_from(primary, sides=LA_SIDES))


def test_prior_is_immutable():
    p = racecast.Prior(types=("late_mail",), sides=("A", "B"), shift=[[0.4, 0.0]], sd=[0.3])
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.inflation = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        p.shift[0, 0] = 1.0


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"format": "racecast.Prior", "format_version": 99},
        {"format": "racecast.Prior", "format_version": 1, "types": ["late_mail"], "sides": ["A", "B"]},
        {
            "format": "racecast.Prior",
            "format_version": 1,
            "types": ["late_mail"],
            "sides": ["A", "B"],
            "shift": {"late_mail": {"A": 0.1, "B": 0.0}},
            "sd": {"late_mail": -1.0},
            "inflation": 0.25,
        },
    ],
)
def test_from_dict_rejects_what_is_not_a_saved_prior(bad):
    with pytest.raises(racecast.ForecastInputError):
        racecast.Prior.from_dict(bad)


# ---------------------------------------------------------------------------
# input errors
# ---------------------------------------------------------------------------
def test_prior_from_rejects_bad_input():
    h = csv_count(HISTORY)
    with pytest.raises(racecast.ForecastInputError, match="inflation"):
        racecast.prior_from(h, inflation=0.0)
    with pytest.raises(racecast.ForecastInputError, match="at least one"):
        racecast.prior_from([])
    with pytest.raises(racecast.ForecastInputError, match="at least two"):
        racecast.prior_from(csv_count("release,batch_type,A,B\n1,late_mail,10,20\n2,late_mail,30,30\n"))
    with pytest.raises(racecast.ForecastInputError, match="different sides"):
        racecast.prior_from([h, csv_count("release,batch_type,C,D\n1,vote_center,1,2\n2,late_mail,3,4\n")])
    with pytest.raises(racecast.ForecastInputError, match="two sides"):
        racecast.prior_from(h, sides={"A": "left"})


def test_an_incomplete_history_count_is_announced():
    incomplete = csv_count(
        "release,batch_type,A,B,outstanding_late_mail\n1,vote_center,50,60,100\n2,late_mail,90,80,40\n"
    )
    with pytest.warns(racecast.HistoryWarning, match="outstanding"):
        racecast.prior_from(incomplete)


def test_forecast_says_which_candidates_have_no_side(la_count):
    prior = racecast.Prior(
        types=("late_mail",),
        sides=("progressive", "centrist"),
        shift=[[0.3, 0.0]],
        sd=[0.3],
        candidate_sides={"Karen Bass": "progressive"},
    )
    with pytest.raises(racecast.ForecastInputError, match="Rick Caruso"):
        quiet_forecast(la_count[:3], engine="fast", prior=prior)
    unrelated = racecast.Prior(
        types=("absentee",), sides=("Karen Bass", "Rick Caruso"), shift=[[0.3, 0.0]], sd=[0.3]
    )
    with pytest.raises(racecast.ForecastInputError, match="nothing to apply"):
        quiet_forecast(la_count[:3], engine="fast", prior=unrelated)
    with pytest.raises(racecast.ForecastInputError, match=r"racecast\.Prior"):
        quiet_forecast(la_count[:3], engine="fast", prior={"late_mail": 0.3})


# ---------------------------------------------------------------------------
# the model hook
# ---------------------------------------------------------------------------
def _lean_draws(fc: racecast.Forecast, t: str) -> np.ndarray:
    """Posterior draws of the log-odds A vs B of ``alpha_t - mu``."""
    i = fc.posterior_types.index(t)
    rel = fc.posterior.alpha[:, i, :] - fc.posterior.mu
    return rel[:, 0] - rel[:, 1]


ELECTION_NIGHT = count_from_batches(
    [
        ("early_mail", np.array([10500, 9500])),
        ("early_mail", np.array([9800, 10200])),
        ("vote_center", np.array([9000, 11000])),
        ("vote_center", np.array([14000, 16000])),
    ],
    outstanding={"late_mail": 120000},
)


def test_an_uncounted_type_gets_exactly_the_prior_lean():
    prior = racecast.Prior(types=("late_mail",), sides=("A", "B"), shift=[[0.5, 0.0]], sd=[0.2])
    fc = quiet_forecast(ELECTION_NIGHT, seed=5, engine="fast", draws=8000, prior=prior)
    lean = _lean_draws(fc, "late_mail")
    assert lean.mean() == pytest.approx(0.5, abs=0.01)
    assert lean.std() == pytest.approx(0.2, abs=0.01)


def test_the_prior_replaces_the_zero_mean_hierarchy_term_in_both_engines_likelihoods():
    """The fast engine's Gaussian block and the NUTS engine's collapsed covariance give
    the same marginal likelihood of the scales, with and without a prior."""
    count = count_from_batches(
        [
            ("early_mail", np.array([1050, 950])),
            ("vote_center", np.array([900, 1100])),
            ("late_mail", np.array([1200, 800])),
            ("late_mail", np.array([1300, 800])),
        ],
        outstanding={"late_mail": 6000, "provisional": 500},
    )
    types = count.batch_types
    prior = racecast.Prior(
        types=("vote_center", "late_mail"), sides=("A", "B"), shift=[[-0.2, 0], [0.4, 0]], sd=[0.3, 0.3]
    )
    base = M.build_model_data(count, types, {"late_mail": 6000, "provisional": 500})
    mean, sd = prior.model_arrays(count.candidates, types)
    for data in (base, dataclasses.replace(base, prior_mean=mean, prior_sd=sd)):
        sig_t, sig_b = np.array([0.2, 0.6]), np.array([0.05, 0.3])
        ll, _, _ = gaussian._gaussian_block(
            gaussian._share_y(data),
            data.noise,
            gaussian._share_design(data),
            gaussian._share_scales(data, sig_t),
            sig_b**2,
            gaussian._corr(1),
        )
        mats = collapsed._collapsed_matrices(data)
        for g in range(2):
            cov = mats["F"] + sig_t[g] ** 2 * mats["B"] + sig_b[g] ** 2 * mats["I_C"]
            ref = multivariate_normal(np.zeros(mats["y"].size), cov).logpdf(mats["y"])
            assert ll[g] == pytest.approx(ref, rel=1e-9)
    # with the prior, covered types no longer depend on sigma_type
    data = dataclasses.replace(base, prior_mean=mean, prior_sd=sd)
    b = collapsed._collapsed_matrices(data)["B"]
    covered_rows = np.isin(data.type_idx, [types.index("vote_center"), types.index("late_mail")])
    assert not b[covered_rows].any()


def test_an_empty_prior_hook_leaves_the_model_unchanged():
    data = M.build_model_data(ELECTION_NIGHT, ELECTION_NIGHT.batch_types, {"late_mail": 120000})
    blank = dataclasses.replace(
        data, prior_mean=np.zeros((data.n_types, 1)), prior_sd=np.full(data.n_types, np.nan)
    )
    a = M.fit_fast(data, draws=300, rng=np.random.default_rng(1))
    b = M.fit_fast(blank, draws=300, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a.alpha, b.alpha)


def test_a_wrong_prior_gives_way_to_the_types_own_batches():
    """Late mail truly leans to A (+0.4 log-odds); the prior says it leans to B (-0.6).
    Before any late mail the prior moves the forecast; after a few late-mail batches
    the forecast follows the data, and the pull of the prior keeps shrinking."""
    rng = np.random.default_rng(11)
    late = simulate_batches(rng, ["late_mail"], {"late_mail": [0.2, -0.2]}, [[15000] * 8], batch_sd=0.03)
    wrong = racecast.Prior(
        types=("late_mail",), sides=("A", "B"), shift=[[-0.6, 0.0]], sd=[DEFAULT_INFLATION]
    )
    pulls, shares = [], []
    for k in (0, 1, 3, 6):
        count = count_from_batches(
            [
                ("early_mail", np.array([10500, 9500])),
                ("early_mail", np.array([9800, 10200])),
                ("vote_center", np.array([9000, 11000])),
                ("vote_center", np.array([14000, 16000])),
                *late[:k],
            ],
            outstanding={"late_mail": 15000 * (8 - k)},
        )
        with_prior = quiet_forecast(count, seed=2, engine="fast", draws=4000, prior=wrong)
        without = quiet_forecast(count, seed=2, engine="fast", draws=4000)

        def lean(fc):
            a = fc.posterior.alpha[:, fc.posterior_types.index("late_mail"), :]
            return float((a[:, 0] - a[:, 1]).mean())

        gap = lean(without) - (
            -0.6 + float((with_prior.posterior.mu[:, 0] - with_prior.posterior.mu[:, 1]).mean())
        )
        pulls.append((lean(without) - lean(with_prior)) / gap)
        shares.append(
            (
                with_prior.final_share.loc["A", "median"],
                without.final_share.loc["A", "median"],
                with_prior.win_probability["A"],
            )
        )
    # before late mail the prior is used (it moves the lean most of the way to itself) ...
    assert pulls[0] > 0.6
    assert shares[0][1] - shares[0][0] > 0.03
    # ... one batch of the type already outweighs it, three leave it under a tenth, six less again
    assert pulls[1] < 0.5
    assert pulls[2] < 0.1
    assert pulls[3] < pulls[2]
    assert abs(shares[2][0] - shares[2][1]) < 0.01
    assert shares[2][2] > 0.9
    assert shares[3][2] > 0.99


@pytest.mark.slow
def test_nuts_uses_the_prior_like_the_fast_engine(la_count):
    """LA election night with the primary's prior: late mail is uncounted, so its lean relative
    to the contest mean is exactly the prior in both engines, and the forecasts agree."""
    primary = racecast.read_count(racecast.example_path("la_mayor_2022_primary"))
    prior = racecast.prior_from(primary, sides=LA_SIDES)
    expected = prior.log_odds_shift("progressive", "centrist").loc["late_mail"]
    nuts = quiet_forecast(la_count[:3], seed=5, engine="nuts", draws=2000, prior=prior)
    fast = quiet_forecast(la_count[:3], seed=5, engine="fast", draws=2000, prior=prior)
    lean = _lean_draws(nuts, "late_mail")
    assert lean.mean() == pytest.approx(expected["mean"], abs=0.02)
    assert lean.std() == pytest.approx(expected["sd"], abs=0.02)
    assert nuts.win_probability["Karen Bass"] == pytest.approx(fast.win_probability["Karen Bass"], abs=0.05)
    assert nuts.final_share.loc["Karen Bass", "median"] == pytest.approx(
        fast.final_share.loc["Karen Bass", "median"], abs=0.005
    )


def test_a_pooled_bloc_takes_the_side_its_members_share():
    count = csv_count(
        """release,batch_type,Ann,Bob,Cyd,Dee,outstanding_late_mail
1,early_mail,5000,4800,100,90,8000
2,vote_center,9000,9900,210,200,8000
"""
    )
    prior = racecast.Prior(
        types=("late_mail",), sides=("left", "right"), shift=[[0.4, 0.0]], sd=[0.2],
        candidate_sides={"Ann": "left", "Bob": "right", "Cyd": "left", "Dee": "left"},
    )  # fmt: skip
    fc = quiet_forecast(count, seed=1, engine="fast", draws=2000, min_share=0.05, prior=prior)
    assert fc.candidates == ("Ann", "Bob", "Other (2 candidates)")
    rel = fc.posterior.alpha[:, fc.posterior_types.index("late_mail")] - fc.posterior.mu
    # Ann and the bloc are both 'left': the prior puts no lean between them, 0.4 against Bob
    assert (rel[:, 0] - rel[:, 2]).mean() == pytest.approx(0.0, abs=0.02)
    assert (rel[:, 0] - rel[:, 1]).mean() == pytest.approx(0.4, abs=0.02)
    split = dataclasses.replace(
        prior, candidate_sides={"Ann": "left", "Bob": "right", "Cyd": "left", "Dee": "right"}
    )
    with pytest.raises(racecast.ForecastInputError, match="pooled bloc needs"):
        quiet_forecast(count, seed=1, engine="fast", min_share=0.05, prior=split)
