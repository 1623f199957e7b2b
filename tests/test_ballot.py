"""A whole ballot: read_ballot, rules from the metadata, forecast_ballot with a status per contest."""

from __future__ import annotations

import shutil
import time
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import racecast
from racecast import CountFormatError, ForecastInputError
from racecast.ballot_forecast import CALLED, LIKELY, STATUSES
from racecast.rules import Plurality, Seats, Threshold

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "la_county_2022"
NO_SHARED = (
    f"the full LA County 2022 ballot is not at {SHARED}; put the shared data folder "
    "(results.csv, releases.csv, contests.csv) at ../shared/data/la_county_2022 next to the repository"
)
MAYOR = "LOS ANGELES CITY GENERAL MUNICIPAL ELECTION Mayor"
VY = "CULVER CITY GENERAL MUNICIPAL ELECTION - MEASURE VY"
UNCONTESTED = "MEMBER OF THE STATE ASSEMBLY, 57th District"
RENT_BOARD = "SANTA MONICA CITY GENERAL MUNICIPAL ELECTION Member of the Rent Control Board"
SANTA_CLARITA = "SANTA CLARITA CITY GENERAL MUNICIPAL ELECTION Member of the City Council"
IRWINDALE = "IRWINDALE CITY GENERAL MUNICIPAL ELECTION Member of the City Council"
SAN_MARINO = "SAN MARINO CITY GENERAL MUNICIPAL ELECTION - MEASURE Z"
LAS_VIRGENES = "LAS VIRGENES UNIFIED SCHOOL DISTRICT SPECIAL ELECTION - MEASURE S"
CHIEF_JUSTICE = "For Chief Justice of California - PATRICIA GUERRERO"
HUGHES = "HUGHES-ELIZABETH LAKES UNION SCHOOL DISTRICT Governing Board Member, Trustee Area No. 5"


@pytest.fixture(scope="module")
def ballot() -> racecast.Ballot:
    return racecast.read_ballot(racecast.example_path("la_county_2022"))


@pytest.fixture(scope="module")
def full() -> racecast.Ballot:
    if not (SHARED / "results.csv").is_file():
        pytest.skip(NO_SHARED)
    return racecast.read_ballot(SHARED)


def _quiet_ballot(ballot, **kwargs) -> racecast.BallotForecast:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        return racecast.forecast_ballot(ballot, progress=False, **kwargs)


@pytest.fixture(scope="module")
def as_of_2(ballot) -> racecast.BallotForecast:
    return _quiet_ballot(ballot, as_of=2, seed=1, engine="fast", processes=1, draws=1000)


# ---------------------------------------------------------------------------------------------- reading


def test_the_bundled_slice_has_every_release_and_names_its_counts_by_contest(ballot):
    assert len(ballot) == 14
    assert len(ballot.contests) == 18
    assert ballot.name == "la_county_2022"
    count = ballot.contest(MAYOR)
    assert isinstance(count, racecast.Count)
    assert count.name == MAYOR
    assert count.totals.to_dict() == {"KAREN RUTH BASS": 509944, "RICK J. CARUSO": 420030}
    assert count.release_batch_types == ("mixed",) + ("late_mail",) * 13
    assert count.ballots_counted[0] == 1318093
    assert np.isnan(count.ballots_counted[7])
    assert list(count.outstanding.columns) == ["late_mail", "vote_center", "provisional"]
    assert "total" not in count.outstanding.columns  # outstanding_total is the ballot's, not a batch type
    assert ballot.releases.loc[5, "outstanding_total"] == 655300
    assert list(count.text.columns) == ["source", "note"]


def test_a_folder_or_its_results_file_read_the_same(ballot):
    again = racecast.read_ballot(racecast.example_path("la_county_2022") / "results.csv")
    assert again.contests == ballot.contests
    assert all((again.votes[c] == ballot.votes[c]).all() for c in ballot.contests)


def test_the_ballot_as_it_stood_after_k_releases(ballot):
    early = ballot[:2]
    assert len(early) == 2
    assert early.contests == ballot.contests
    assert early.contest("SHERIFF").totals.to_dict() == {"ROBERT LUNA": 770084, "ALEX VILLANUEVA": 563482}
    assert ballot.as_of(2).release_ids.tolist() == [1, 2]
    with pytest.raises(TypeError, match="slice"):
        ballot[3]
    with pytest.raises(ValueError, match="k >= 1"):
        ballot[:0]


def test_an_unknown_contest_suggests_the_nearest_name(ballot):
    with pytest.raises(KeyError, match="did you mean 'SHERIFF'"):
        ballot.contest("SHERIF")


def test_the_full_ballot_has_430_contests_and_la_mayor_as_bundled(full):
    assert len(full) == 14
    assert len(full.contests) == 430
    mayor = full.contest(MAYOR)
    bundled = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    # the shared README: rows 3-9 of the bundled count are releases 1-7 of the ballot
    assert (mayor.votes[:7] == bundled.votes[2:9]).all()
    assert (mayor.ballots_counted[:2] == bundled.ballots_counted[2:4]).all()
    assert full.contest(VY).totals.to_dict() == {"YES": 8293, "NO": 8309}
    assert full.rules["uncontested"].sum() == 23  # 22 one-candidate contests and 3 candidates for 3 seats


# ------------------------------------------------------------------------------------------------ rules


def test_rules_come_from_the_metadata(ballot):
    assert ballot.rule(MAYOR) == Plurality()
    assert ballot.rule(SANTA_CLARITA) == Seats(3)
    assert ballot.rule(IRWINDALE) == Seats(2)
    assert ballot.rule(SAN_MARINO) == Threshold(Fraction(2, 3), yes="YES", no="NO")
    assert ballot.rule(LAS_VIRGENES) == Threshold(Fraction(55, 100), yes="YES", no="NO")
    assert ballot.rule(VY) == Threshold(Fraction(1, 2), yes="YES", no="NO")
    assert ballot.rule(CHIEF_JUSTICE) == Threshold(Fraction(1, 2), yes="YES", no="NO")
    rules = ballot.rules
    assert rules.loc[CHIEF_JUSTICE, "reason"].startswith("judicial retention")
    assert rules.loc[UNCONTESTED, "uncontested"]
    assert rules.loc[RENT_BOARD, "uncontested"]
    assert rules.loc[UNCONTESTED, "reason"] == "uncontested: 1 candidate for 1 seat"
    assert not rules.loc[MAYOR, "uncontested"]


def test_every_pass_rate_of_the_full_ballot_is_read(full):
    shares = full.info["pass_share"].dropna().value_counts().to_dict()
    assert shares == {Fraction(1, 2): 75, Fraction(11, 20): 12, Fraction(2, 3): 4}
    kinds = full.rules["rule"].value_counts().to_dict()
    assert kinds["threshold:1/2"] == 75 + 16  # majority measures and judicial retentions


# ------------------------------------------------------------------------------------------ forecasting


def test_every_contest_gets_a_status_and_a_message(as_of_2, ballot):
    contests = as_of_2.contests
    assert list(contests.index) == list(ballot.contests)
    assert set(contests["status"]) <= set(STATUSES)
    assert contests["message"].str.len().gt(0).all()
    assert contests.loc[UNCONTESTED, "status"] == "uncontested"
    assert contests.loc[RENT_BOARD, "status"] == "uncontested"
    assert "certain" in contests.loc[UNCONTESTED, "message"]
    assert as_of_2.settings["as_of_release"] == 2
    assert as_of_2.settings["seed"] == 1
    for c, row in contests.iterrows():
        if row["status"] in ("called", "likely", "too close to call"):
            level = CALLED if row["status"] == "called" else LIKELY if row["status"] == "likely" else 0.0
            assert row["probability"] >= level, c
            assert row["status"] != "too close to call" or row["probability"] < LIKELY


def test_the_table_sums_as_each_rule_says(as_of_2):
    table = as_of_2.table
    sums = table.groupby(level="contest", sort=False)["win_probability"].sum()
    assert sums[MAYOR] == pytest.approx(1.0)
    assert sums[SANTA_CLARITA] == pytest.approx(3.0)
    assert sums[IRWINDALE] == pytest.approx(2.0)
    assert sums[SAN_MARINO] == pytest.approx(1.0)
    assert sums[CHIEF_JUSTICE] == pytest.approx(1.0)
    assert sums[RENT_BOARD] == 3.0
    assert sums[UNCONTESTED] == 1.0
    forecast = table[table["status"] != "uncontested"]
    assert (forecast["final_share_lower"] <= forecast["final_share_median"]).all()
    assert (forecast["final_share_median"] <= forecast["final_share_upper"]).all()


def test_a_contest_is_the_forecast_it_would_get_alone(as_of_2, ballot):
    seeds = np.random.SeedSequence(1).generate_state(16, dtype=np.uint32)
    modelled = [c for c in ballot.contests if c not in (UNCONTESTED, RENT_BOARD)]
    i = modelled.index(SAN_MARINO)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        alone = racecast.forecast(
            ballot[:2].contest(SAN_MARINO),
            seed=int(seeds[i]),
            engine="fast",
            draws=1000,
            rule=ballot.rule(SAN_MARINO),
        )
    got = as_of_2.table.loc[SAN_MARINO, "win_probability"]
    assert got.to_dict() == alone.win_probability.to_dict()


def test_a_broken_contest_is_an_error_and_the_others_go_on(ballot):
    with pytest.warns(racecast.RacecastWarning, match="1 of 18 contests failed"):
        fc = racecast.forecast_ballot(
            ballot,
            as_of=1,
            seed=0,
            engine="fast",
            processes=1,
            draws=200,
            progress=False,
            rules={MAYOR: Threshold(0.5)},  # a measure's rule cannot apply to two candidates
        )
    row = fc.contests.loc[MAYOR]
    assert row["status"] == "error"
    assert "ForecastInputError" in row["message"]
    assert fc.table.loc[MAYOR, "win_probability"].isna().all()
    others = fc.contests.drop(MAYOR)
    assert not others["status"].eq("error").any()


def test_contests_with_no_votes_wait_and_contests_that_stop_changing_still_work(tmp_path, ballot):
    folder = tmp_path / "zero"
    shutil.copytree(racecast.example_path("la_county_2022"), folder)
    results = pd.read_csv(folder / "results.csv", dtype=str, keep_default_na=False)
    results.loc[(results["contest"] == VY) & (results["release"] == "1"), "votes"] = "0"
    results.to_csv(folder / "results.csv", index=False)
    zero = racecast.read_ballot(folder)
    fc = _quiet_ballot(zero[:1], seed=2, engine="fast", processes=1, draws=200)
    assert fc.contests.loc[VY, "status"] == "waiting"
    assert fc.table.loc[VY, "win_probability"].isna().all()
    assert (np.diff(ballot.votes[HUGHES][9:].sum(axis=1)) == 0).all()  # no votes added after release 10
    late = _quiet_ballot(ballot, seed=2, engine="fast", processes=1, draws=200)
    assert late.contests.loc[HUGHES, "status"] in ("called", "likely", "too close to call")


def test_bad_arguments_are_clear_errors(ballot):
    with pytest.raises(ForecastInputError, match="did you mean 'SHERIFF'"):
        racecast.forecast_ballot(ballot, rules={"SHERIF": "plurality"}, progress=False)
    with pytest.raises(ForecastInputError, match="rules="):
        racecast.forecast_ballot(ballot, rule="plurality", progress=False)
    with pytest.raises(ForecastInputError, match="as_of=99"):
        racecast.forecast_ballot(ballot, as_of=99, progress=False)
    with pytest.raises(ForecastInputError, match="engine"):
        racecast.forecast_ballot(ballot, engine="mcmc", progress=False)


def test_notebook_and_plain_views(ballot, as_of_2):
    assert repr(ballot).startswith("<Ballot 'la_county_2022': 14 releases")
    page = ballot._repr_html_()
    assert "<table" in page
    assert "uncontested: 2" in page
    assert MAYOR in page
    assert repr(as_of_2).startswith("<BallotForecast la_county_2022 as of release 2")
    page = as_of_2._repr_html_()
    assert "<table" in page
    assert "uncontested: 2" in page
    assert "SHERIFF" in page
    assert as_of_2.status_counts.sum() == 18


def test_the_whole_ballot_on_two_processes(full):
    start = time.perf_counter()
    fc = _quiet_ballot(full, as_of=1, seed=0, engine="fast", processes=2)
    seconds = time.perf_counter() - start
    assert len(fc.contests) == 430
    assert not fc.contests["status"].eq("error").any()
    assert fc.contests["status"].eq("uncontested").sum() == 23
    print(f"whole LA ballot after release 1, fast engine, 2 processes: {seconds:.1f} s")


# -------------------------------------------------------------------------------------------- bad files


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "ballot"
    shutil.copytree(racecast.example_path("la_county_2022"), folder)
    return folder


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def test_bad_cells_are_all_reported_with_file_row_and_column(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "results.csv", "Non Partisan,133942", "Non Partisan,13x942")
    _edit(folder / "results.csv", "BOB HERTZBERG,Non Partisan,148227", "BOB HERTZBERG,Non Partisan,")
    with pytest.raises(CountFormatError) as err:
        racecast.read_ballot(folder)
    assert err.value.source.endswith("results.csv")
    assert err.value.row == 2
    assert err.value.column == "votes"
    assert any("more problem" in n for n in err.value.__notes__)
    _, problems = racecast.io.ballot_problems(folder)
    assert [(p.row, p.column) for p in problems] == [(2, "votes"), (52, "votes")]


def test_a_bad_pass_rate_names_its_row(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "contests.csv", "2/3 of votes cast", "two thirds")
    with pytest.raises(CountFormatError, match="not a pass rate") as err:
        racecast.read_ballot(folder)
    assert err.value.source.endswith("contests.csv")
    assert err.value.row == 6
    assert err.value.column == "measure_pass_rate"


def test_a_missing_candidate_row_is_refused_not_dropped(tmp_path):
    folder = _copy(tmp_path)
    lines = (folder / "results.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "results.csv").write_text("".join(lines[:2] + lines[3:]), encoding="utf-8")
    with pytest.raises(CountFormatError, match="no row for candidate 'LINDSEY HORVATH' at release 1") as err:
        racecast.read_ballot(folder)
    assert err.value.column == "candidate"


def test_files_that_disagree_are_refused(tmp_path):
    folder = _copy(tmp_path)
    _edit(
        folder / "results.csv",
        "1,2022-11-09T03:35:19-08:00,SUPERVISOR",
        "1,2022-11-09T04:35:19-08:00,SUPERVISOR",
    )
    _edit(folder / "contests.csv", "SHERIFF,Sheriff,Candidate,,,2", "SHERIFF,Sheriff,Candidate,,,3")
    _, problems = racecast.io.ballot_problems(folder)
    assert {(Path(p.source).name, p.column) for p in problems} == {
        ("results.csv", "released_at"),
        ("contests.csv", "n_candidates"),
    }


def test_unknown_columns_and_missing_files_say_what_to_do(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "releases.csv", "outstanding_late_mail", "remaining_late_mail")
    with pytest.raises(CountFormatError, match="unknown column") as err:
        racecast.read_ballot(folder)
    assert err.value.row == 1
    assert err.value.column == "remaining_late_mail"
    assert "did you mean 'outstanding_late_mail'?" in str(err.value)
    folder = _copy(tmp_path / "again")
    (folder / "contests.csv").unlink()
    with pytest.raises(CountFormatError, match="file not found") as err:
        racecast.read_ballot(folder)
    assert err.value.source.endswith("contests.csv")
    with pytest.raises(CountFormatError, match=r"results\.csv"):
        racecast.read_ballot(folder / "releases.csv")


def test_a_contest_missing_from_contests_csv_is_named(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "contests.csv", "SHERIFF,Sheriff,Candidate,,,2\n", "")
    with pytest.raises(CountFormatError, match=r"'SHERIFF' is not in contests\.csv") as err:
        racecast.read_ballot(folder)
    assert err.value.column == "contest"
    assert err.value.source.endswith("results.csv")
