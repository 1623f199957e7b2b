"""The calibration instrument (racecast.evaluation.calibration, .ballot_replay) on hand-computable inputs."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import racecast
from racecast.evaluation import calibration as cal
from racecast.evaluation.ballot_replay import replay_ballot
from racecast.rules import Plurality, Seats, Threshold

from .conftest import doc_tables

DOCS = Path(__file__).resolve().parents[1] / "docs"

# Final: A 120, B 80 (shares 0.6 / 0.4).  Release 1 counts 100 of 200 (50% outstanding),
# release 2 counts 195 (2.5% outstanding).
COUNT_CSV = (
    "release,batch_type,A,B,outstanding_mixed\n1,mixed,60,40,100\n2,mixed,117,78,5\n3,mixed,120,80,0\n"
)

# What the fake forecaster says after release k: P(A), then the (lower, upper) intervals of A and B,
# and four simulated final counts (A, B).
SAYS = {
    1: (0.7, (0.55, 0.65), (0.35, 0.45), [(50, 50), (55, 45), (65, 35), (70, 30)]),
    2: (0.02, (0.40, 0.50), (0.50, 0.60), [(45, 55), (46, 54), (47, 53), (48, 52)]),
}


def fake_forecaster(count: racecast.Count, **_: object) -> SimpleNamespace:
    p, a, b, draws = SAYS[len(count)]
    idx = pd.Index(["A", "B"], name="candidate")
    share = pd.DataFrame({"median": [sum(a) / 2, sum(b) / 2], "lower": [a[0], b[0]], "upper": [a[1], b[1]]})
    return SimpleNamespace(
        win_probability=pd.Series([p, 1 - p], index=idx),
        final_share=share.set_index(idx),
        final_draws=np.array(draws, dtype=float),
    )


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    count = racecast.read_count(io.StringIO(COUNT_CSV), name="toy")
    rp = racecast.replay(count, forecaster=fake_forecaster, progress=False)
    return cal.calibration_rows(rp).assign(dataset="toy")


def test_rows_hold_each_candidate_of_each_forecast_against_the_final_result(rows):
    assert rows[["release", "candidate", "outcome"]].values.tolist() == [
        [1, "A", 1],
        [1, "B", 0],
        [2, "A", 1],
        [2, "B", 0],
    ]
    assert rows["final_share"].tolist() == pytest.approx([0.6, 0.4, 0.6, 0.4])
    assert rows["outstanding"].tolist() == pytest.approx([0.5, 0.5, 0.025, 0.025])
    assert rows["stage"].tolist() == ["> 20%", "> 20%", "1-5%", "1-5%"]
    assert rows["covered"].tolist() == [True, True, False, False]
    assert rows["margin"].iloc[0] == pytest.approx(0.2)
    # PIT: A's simulated shares 0.50 0.55 0.65 0.70 -> 2 of 4 below 0.6; release 2: all below.
    assert rows["pit"].tolist() == pytest.approx([0.5, 0.5, 1.0, 0.0])


def test_coverage_by_stage_brier_and_wrong_calls_by_hand(rows):
    table = cal.coverage_by_stage(rows).set_index("stage")
    assert table.index.tolist() == ["1-5%", "> 20%", "all"]
    assert table.loc["> 20%", "coverage"] == 1.0
    assert table.loc["1-5%", "coverage"] == 0.0
    assert table.loc["all", "coverage"] == 0.5
    assert table.loc["all", "width"] == pytest.approx(0.1)
    assert table.loc["all", ["forecasts", "intervals", "wrong_calls"]].tolist() == [2, 4, 1]
    # Brier: (0.3^2 + 0.3^2 + 0.98^2 + 0.98^2) / 2 forecasts
    assert cal.brier(rows) == pytest.approx((0.18 + 2 * 0.98**2) / 2)
    assert table.loc["all", "brier"] == pytest.approx(cal.brier(rows))
    assert table.loc["all", "pit_above_95"] == 0.25
    assert table.loc["all", "pit_below_5"] == 0.25
    wrong = cal.confident_wrong_calls(rows)
    assert wrong[["release", "candidate"]].values.tolist() == [[2, "B"]]


def test_reliability_width_and_pit_tables_by_hand(rows):
    rel = cal.reliability_table(rows).set_index("bin")
    assert rel.index.astype(str).tolist() == ["0.01-0.05", "0.2-0.4", "0.6-0.8", "0.95-0.99"]
    assert rel["n"].tolist() == [1, 1, 1, 1]
    assert rel["observed"].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert rel["mean_probability"].tolist() == pytest.approx([0.02, 0.3, 0.7, 0.98])
    width = cal.width_vs_coverage(rows, bins=(0.0, 0.05, 0.2))
    assert width[["n", "coverage"]].values.tolist() == [[4, 0.5]]
    hist = cal.pit_histogram(rows, bins=2)
    assert hist["n"].tolist() == [1, 3]  # 0.0 | 0.5 0.5 1.0 (0.5 falls in the upper half)
    assert hist["share"].sum() == pytest.approx(1.0)
    by = cal.summary(pd.concat([rows, rows.assign(dataset="again")]), by="dataset")
    assert by["dataset"].tolist() == ["toy", "again"]
    assert by["coverage"].tolist() == [0.5, 0.5]


def test_stages_put_an_edge_in_the_later_stage():
    labels = cal.stage_of([-0.02, 0.0, 0.01, 0.049, 0.05, 0.2, 0.9])
    assert labels.tolist() == ["< 1%", "< 1%", "1-5%", "1-5%", "5-20%", "> 20%", "> 20%"]


def test_outcomes_and_margins_follow_the_rule():
    votes = pd.Series({"A": 50.0, "B": 30.0, "C": 20.0})
    assert cal.outcomes(Seats(2), votes).tolist() == [1, 1, 0]
    assert cal.outcomes(Plurality(), votes).tolist() == [1, 0, 0]
    assert cal.final_margin(Seats(2), votes) == pytest.approx(0.1)
    measure = Threshold("2/3", yes="YES", no="NO")
    yes_no = pd.Series({"YES": 60.0, "NO": 40.0})
    assert cal.outcomes(measure, yes_no).tolist() == [
        0,
        1,
    ]  # 60% < 2/3: fails, so No's P(fail) event happened
    assert cal.final_margin(measure, yes_no) == pytest.approx(2 * (2 / 3 - 0.6))


def test_a_ballot_replay_scores_each_contest_by_its_rule_and_skips_the_uncontested():
    ballot = racecast.read_ballot(racecast.example_path("la_county_2022"))
    names = [
        "SAN MARINO CITY GENERAL MUNICIPAL ELECTION - MEASURE Z",
        "IRWINDALE CITY GENERAL MUNICIPAL ELECTION Member of the City Council",
        "MEMBER OF THE STATE ASSEMBLY, 57th District",
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        br = replay_ballot(ballot, contests=names, seed=3, draws=200)
    assert br.contests["status"].tolist() == ["scored", "scored", "uncontested"]
    assert br.contests["forecasts"].tolist()[:2] == [13, 13]
    measure = br.rows[br.rows["contest"] == names[0]]
    assert set(measure["rule"]) == {"threshold"}
    # Yes's P(pass) and No's P(fail) add to one in every forecast
    assert measure.groupby("release")["probability"].sum().to_numpy() == pytest.approx(1.0)
    seats = br.rows[br.rows["contest"] == names[1]]
    assert seats.groupby("release")["outcome"].sum().eq(2).all()
    assert br.rows["pit"].between(0, 1).all()
    again = replay_ballot(ballot, contests=names[:1], seed=3, draws=200)
    pd.testing.assert_frame_equal(again.rows, measure.reset_index(drop=True))


def test_the_calibration_page_shows_the_recorded_results():
    """docs/calibration.md's tables are what benchmarks/calibration_real.py wrote, rounded as shown."""
    page = (DOCS / "calibration.md").read_text(encoding="utf-8")
    recorded = json.loads((DOCS / "calibration_results.json").read_text(encoding="utf-8"))
    shown = doc_tables(page)
    assert set(recorded["tables"]) <= set(shown), "every recorded table is on the page"
    for name, table in recorded["tables"].items():
        expected = [[str(c) for c in row] for row in table["display"]]
        assert shown[name] == expected, f"table {name} differs from docs/calibration_results.json"


def test_the_readme_quotes_the_recorded_real_count_coverage():
    recorded = json.loads((DOCS / "calibration_results.json").read_text(encoding="utf-8"))
    rows = {r["dataset"]: r for r in recorded["tables"]["datasets"]["data"]}
    ballot = rows["LA County 2022 ballot"]["coverage"]
    nyt = rows["NYT 2020, six states"]["coverage"]
    readme = " ".join((DOCS.parent / "README.md").read_text(encoding="utf-8").split())
    assert (
        f"90% intervals cover {ballot:.2f} of the ballot's final shares and {nyt:.2f} of the feed's" in readme
    )
