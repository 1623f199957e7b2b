"""A projected final total (``expected_total``): what is left when nothing is published."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import racecast
from racecast._projection import draw_left, mean_left
from racecast.model import Priors
from racecast.outstanding import resolve_outstanding
from racecast.simulate import RemainingSpec, outstanding_factor

from .conftest import csv_count

PROJECTED = (
    "batch_type,Ann,Bob,ballots_counted,expected_total\n"
    "early_mail,600,400,1200,{first}\n"
    "vote_center,900,1100,3700,{last}\n"
)


def test_with_nothing_published_the_projection_less_what_was_counted_is_left():
    out = resolve_outstanding(csv_count(PROJECTED.format(first="", last="10000")))
    # 10,000 projected less 3,700 ballots counted (the total falling below 3,700 is a 1e-9 chance)
    assert out.amounts == {"vote_center": pytest.approx(6300.0)}
    assert out.table.loc["vote_center", "source"].startswith("projected: expected total 10,000 (release 2)")
    assert out.projected == {"vote_center": (10000.0, 3700.0)}
    assert out.published == {}
    assert out.stale == ()


def test_the_latest_projection_is_used_and_a_count_without_ballots_counts_votes():
    out = resolve_outstanding(csv_count(PROJECTED.format(first="8000", last="")))
    assert out.amounts == {"vote_center": pytest.approx(4300.0)}
    votes = csv_count("batch_type,Ann,Bob,expected_total\nearly_mail,600,400,\nlate_mail,900,1100,9000\n")
    assert resolve_outstanding(votes).amounts == {"late_mail": pytest.approx(7000.0)}  # less 2,000 votes


def test_a_published_estimate_even_stale_wins_over_a_projection():
    text = (
        "batch_type,Ann,Bob,expected_total,outstanding_late_mail\n"
        "early_mail,600,400,,900\nlate_mail,900,1100,9000,\n"
    )
    out = resolve_outstanding(csv_count(text))
    assert out.amounts == {"late_mail": 0.0}  # 900 published, less the 1,000 late mail counted since
    assert "projected" not in out.table.loc["late_mail", "source"]


def test_a_count_past_its_projection_still_has_the_projections_upper_tail_to_come():
    """A projection 15% low must not call the count complete: the LA ballot gave 25 wrong calls that way."""
    lefts = []
    for expected in ("4000", "3700", "3400", "3000"):
        count = csv_count(PROJECTED.format(first="", last=expected))
        out = resolve_outstanding(count)
        lefts.append(out.amounts["vote_center"])
        if float(expected) <= 3700:
            assert "passed the expected total" in out.stale[0]
    assert lefts[0] > lefts[1] > lefts[2] > lefts[3] > 0
    assert lefts[1] == pytest.approx(0.15 * 3700 * 0.8, rel=0.1)  # at the projection: ~0.8 sd of the total
    with pytest.warns(racecast.StaleOutstandingWarning, match="new expected_total"):
        fc = racecast.forecast(csv_count(PROJECTED.format(first="", last="3400")), seed=1, draws=400)
    added = fc.final_draws.sum(axis=1) - 2000
    assert (added >= 0).all()
    assert np.median(added) > 50  # not complete: ~330 ballots (~180 votes) on average are still to come


def test_what_a_projection_leaves_is_drawn_as_the_total_given_that_it_exceeds_the_count():
    """Against rejection sampling: draw totals, keep those above what was counted."""
    rng = np.random.default_rng(11)
    sd, s = 0.15, np.sqrt(np.log1p(0.15**2))
    for expected, counted in ((10000.0, 3700.0), (10000.0, 9500.0), (10000.0, 11000.0)):
        total = expected * np.exp(s * rng.standard_normal(4_000_000) - s**2 / 2)
        kept = total[total > counted] - counted
        drawn = draw_left(expected, counted, sd, 200_000, rng)
        assert drawn.min() >= 0
        assert drawn.mean() == pytest.approx(kept.mean(), rel=0.02)
        assert mean_left(expected, counted, sd) == pytest.approx(kept.mean(), rel=0.02)
        for q in (0.05, 0.5, 0.95):
            assert np.quantile(drawn, q) == pytest.approx(np.quantile(kept, q), rel=0.03)


def test_a_projections_error_is_carried_to_what_is_left_in_absolute_terms():
    """The projection is of the total: its relative sd on what is left is sd x total / left."""
    out = resolve_outstanding(csv_count(PROJECTED.format(first="", last="10000")), outstanding_sd=0.1)
    spec = RemainingSpec(out.amounts, "ballots", 0.1, projected=out.projected)
    published = RemainingSpec(out.amounts, "ballots", 0.1)
    rng = np.random.default_rng(7)
    lognormal = Priors(outstanding_df=None)
    wide = outstanding_factor(spec, "vote_center", lognormal, 100_000, rng)
    narrow = outstanding_factor(published, "vote_center", lognormal, 100_000, rng)
    assert np.std(narrow) == pytest.approx(0.1, rel=0.05)
    assert np.std(wide) == pytest.approx(0.1 * 10000 / 6300, rel=0.05)


def test_the_forecast_says_what_is_projected_and_keeps_the_column():
    count = csv_count(PROJECTED.format(first="", last="10000"))
    fc = racecast.forecast(count, seed=1, draws=300)
    assert "vote_center 6,300 ballots (projected)" in fc.summary()
    assert np.isnan(count[:1].expected_total).all()
    assert count.releases["expected_total"].tolist()[-1] == 10000.0
    assert "projected final total 10,000 at release 2" in count._repr_html_()


def test_with_expected_total_sets_the_last_release_and_refuses_nonsense():
    count = csv_count("batch_type,Ann,Bob\nearly_mail,600,400\nvote_center,900,1100\n")
    with pytest.raises(racecast.ForecastInputError, match="expected_total"):
        resolve_outstanding(count)
    projected = count.with_expected_total(3500)
    assert np.isnan(projected.expected_total[0])
    assert projected.expected_total[1] == 3500.0
    assert resolve_outstanding(projected).amounts == {"vote_center": pytest.approx(1500.0, rel=1e-3)}
    for bad in (-1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="expected total"):
            count.with_expected_total(bad)


def test_a_bad_expected_total_names_its_row_and_column():
    with pytest.raises(racecast.CountFormatError) as info:
        csv_count(PROJECTED.format(first="", last="lots"))
    assert (info.value.row, info.value.column) == (3, "expected_total")


def _ballot_with_projection(tmp_path: Path, drop: tuple[str, ...] = ()) -> Path:
    """The bundled ballot with its published estimates removed and a projection at release 1."""
    folder = tmp_path / "ballot"
    shutil.copytree(racecast.example_path("la_county_2022"), folder)
    path = folder / "releases.csv"
    releases = pd.read_csv(path, dtype=str, keep_default_na=False)
    releases = releases.drop(columns=[c for c in releases if c.startswith("outstanding_") or c in drop])
    releases["expected_total"] = ["4000000"] + [""] * (len(releases) - 1)
    releases.to_csv(path, index=False)
    return folder


def test_a_ballots_projection_is_given_to_every_contest_when_nothing_is_published(tmp_path):
    ballot = racecast.read_ballot(_ballot_with_projection(tmp_path))
    assert ballot.releases["expected_total"].iloc[0] == 4_000_000
    for name in ballot.contests[:3]:
        count = ballot.contest(name)[:2]
        out = resolve_outstanding(count)
        assert sum(out.amounts.values()) == pytest.approx(4_000_000 - count.ballots_counted[-1], rel=1e-6)
        assert out.total_votes > 0


def test_a_ballots_projection_without_ballots_counted_is_refused(tmp_path):
    folder = _ballot_with_projection(tmp_path, drop=("ballots_counted",))
    with pytest.raises(racecast.CountFormatError, match="ballots_counted") as info:
        racecast.read_ballot(folder)
    assert info.value.column == "expected_total"


def test_everything_counted_is_the_last_ballots_counted_plus_what_came_after_it():
    """Clarity leaves ballots_counted blank on some releases: add those at the votes-per-ballot ratio."""
    text = "batch_type,Ann,Bob,ballots_counted\nmail,300,200,500\nmail,600,400,1200\nelection_day,900,1100,\n"
    out = resolve_outstanding(csv_count(text).with_expected_total(12000))
    # 1,200 ballots, then 1,000 votes at 1,000 votes per 1,200 ballots = 1,200 more
    assert out.projected == {"election_day": (12000.0, pytest.approx(2400.0))}
