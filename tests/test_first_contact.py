"""The mistakes users really make on first contact get one clear error that says what to do."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import racecast
from racecast import CountFormatError, ForecastInputError
from racecast.cli import EXIT_BAD_INPUT, app
from racecast.cli._options import parse_remaining
from racecast.io import count_problems

LA = racecast.example_path("la_mayor_2022_general")


def _read(text: str) -> racecast.Count:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no CorrectionWarning storm on the way to the error
        return racecast.read_count(io.StringIO(text), name="typed.csv")


def _csv(header: list[str], rows: list[list[object]]) -> str:
    return "\n".join(",".join(str(c) for c in r) for r in [header, *rows]) + "\n"


@pytest.fixture(scope="module")
def la() -> racecast.Count:
    return racecast.read_count(LA)


# ---------------------------------------------------------------------------
# votes typed per release instead of running totals
# ---------------------------------------------------------------------------
def test_votes_typed_per_release_are_one_error_asking_for_running_totals(la):
    inc = la.increments.to_numpy()
    rows = [[t, *map(int, v)] for t, v in zip(la.release_batch_types, inc, strict=True)]
    text = _csv(["batch_type", *la.candidates], rows)
    with pytest.raises(CountFormatError, match="running totals") as err:
        _read(text)
    assert "cumulative votes" in err.value.reason
    down = int((np.diff(inc.sum(axis=1)) < 0).sum())
    assert down > (len(inc) - 1) / 2  # the LA count typed per release goes down at most releases
    assert f"goes down at {down} of {len(inc) - 1} releases" in err.value.reason
    assert err.value.row == 3  # the first release whose total went down
    assert err.value.source == "typed.csv"


def test_per_release_votes_in_a_tidy_table_get_the_same_error(la):
    inc = la.increments
    tidy = inc.reset_index().melt(id_vars="release", var_name="candidate", value_name="votes")
    tidy["batch_type"] = tidy["release"].map(dict(zip(la.release_ids, la.release_batch_types, strict=True)))
    with pytest.raises(CountFormatError, match="running totals"):
        racecast.Count.from_frame(tidy)


def test_validate_lists_per_release_votes_once(tmp_path, la):
    rows = [[t, *map(int, v)] for t, v in zip(la.release_batch_types, la.increments.to_numpy(), strict=True)]
    path = tmp_path / "typed.csv"
    path.write_text(_csv(["batch_type", *la.candidates], rows))
    count, problems = count_problems(path)
    assert count is None
    assert len(problems) == 1
    assert "running totals" in problems[0].reason


def test_a_real_correction_is_still_kept_with_a_warning():
    text = "batch_type,Ann,Bob\nearly_mail,100,100\nlate_mail,150,130\nlate_mail,140,135\nlate_mail,200,160\n"
    with pytest.warns(racecast.CorrectionWarning, match="row 4"):
        count = racecast.read_count(io.StringIO(text), name="c.csv")
    assert count.corrections == [3]


# ---------------------------------------------------------------------------
# shares or percentages instead of votes
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rows", "why"),
    [
        ([["early_mail", 52.3, 47.7], ["late_mail", 51.1, 48.9]], "each row sums to about 100"),
        ([["early_mail", 0.523, 0.477], ["late_mail", 0.511, 0.489]], "each row sums to about 1"),
        ([["early_mail", 41.5, 32.25], ["late_mail", 40.5, 33.75]], "every value is at most 100"),
    ],
)
def test_shares_with_decimals_are_called_shares(rows, why):
    with pytest.raises(CountFormatError, match="look like vote shares or percentages") as err:
        _read(_csv(["batch_type", "Ann", "Bob"], rows))
    assert why in err.value.reason
    assert "cumulative votes" in err.value.reason
    assert (err.value.row, err.value.column) == (2, "Ann")


def test_whole_number_percentages_are_called_percentages():
    text = _csv(["batch_type", "Ann", "Bob", "Cy"], [["early_mail", 52, 40, 8], ["late_mail", 50, 42, 8]])
    with pytest.raises(CountFormatError, match="look like percentages, not votes") as err:
        _read(text)
    assert (err.value.row, err.value.column) == (3, "Ann")


def test_shares_in_a_tidy_table_point_at_the_tidy_row():
    tidy = pd.DataFrame(
        {
            "release": [1, 1, 2, 2],
            "batch_type": ["early_mail"] * 2 + ["late_mail"] * 2,
            "candidate": ["Ann", "Bob"] * 2,
            "votes": [0.52, 0.48, 0.51, 0.49],
        }
    )
    with pytest.raises(CountFormatError, match="vote shares") as err:
        racecast.Count.from_frame(tidy)
    assert (err.value.row, err.value.column) == (2, "votes")


def test_one_decimal_typo_in_votes_is_not_called_shares():
    with pytest.raises(CountFormatError, match=r"whole number, got '1\.5'$") as err:
        _read(_csv(["batch_type", "Ann", "Bob"], [["early_mail", 12, 1.5], ["late_mail", 20, 30]]))
    assert "shares" not in err.value.reason


def test_dots_as_thousands_separators_are_not_called_shares():
    with pytest.raises(CountFormatError, match=r"if '\.' separates thousands") as err:
        _read(_csv(["batch_type", "Ann", "Bob"], [["early_mail", "1.234", "2.345"]]))
    assert "shares" not in err.value.reason


def test_small_whole_vote_counts_are_votes():
    count = _read(_csv(["batch_type", "Ann", "Bob"], [["early_mail", 52, 48], ["late_mail", 60, 55]]))
    assert count.totals.tolist() == [60, 55]


# ---------------------------------------------------------------------------
# outstanding columns under another prefix
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("column", "meant"),
    [
        ("remaining_late_mail", "outstanding_late_mail"),
        ("Remaining late mail", "outstanding_late_mail"),
        ("late_mail_remaining", "outstanding_late_mail"),
        ("uncounted_provisional", "outstanding_provisional"),
        ("remaining_ballots_late_mail", "outstanding_late_mail"),
    ],
)
def test_an_outstanding_column_with_another_prefix_is_not_a_candidate(column, meant):
    text = _csv(["batch_type", "Ann", "Bob", column], [["early_mail", 10, 8, 500]])
    with pytest.raises(CountFormatError, match=f"did you mean '{meant}'") as err:
        _read(text)
    assert (err.value.row, err.value.column) == (1, column)


def test_candidates_whose_names_merely_contain_a_word_are_candidates():
    count = _read(_csv(["batch_type", "Remy Remaining", "Bob"], [["early_mail", 10, 8]]))
    assert count.candidates == ("Remy Remaining", "Bob")


# ---------------------------------------------------------------------------
# a misspelt type in remaining= / --remaining
# ---------------------------------------------------------------------------
def test_a_misspelt_remaining_type_suggests_the_counts_type(la):
    with pytest.raises(ForecastInputError, match=r"did you mean 'late_mail'\?"):
        racecast.forecast(la[:4], remaining={"late_mial": 300_000}, engine="fast")


def test_a_new_type_unlike_the_counts_is_still_accepted(la):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.UnseenBatchTypeWarning)
        fc = racecast.forecast(la[:4], remaining={"late_mail": 1000, "absentee": 5}, engine="fast", draws=200)
    assert fc.remaining.loc["absentee", "source"] == "override"


def test_the_command_line_suggests_the_type_too(tmp_path):
    result = CliRunner().invoke(
        app, ["forecast", str(LA), "--engine", "fast", "--remaining", "late_mial=1000"]
    )
    assert result.exit_code == EXIT_BAD_INPUT
    assert "did you mean 'late_mail'?" in result.stderr


@pytest.mark.parametrize(
    ("given", "hint"),
    [
        ("late-mail=1000", "did you mean late_mail=1000?"),
        ("late_mail=331,000", "late_mail=331000 or late_mail=331_000"),
    ],
)
def test_remaining_options_say_how_to_write_them(given, hint):
    with pytest.raises(ForecastInputError) as err:
        parse_remaining([given])
    assert hint in str(err.value)


# ---------------------------------------------------------------------------
# thousands separators: once, with a count
# ---------------------------------------------------------------------------
def _separated(n_rows: int) -> str:
    rows = [["late_mail", f'"{i + 1},{100 + i:03d}"', f'"{i + 2},{200 + i:03d}"'] for i in range(n_rows)]
    return _csv(["batch_type", "Ann", "Bob"], rows)


def test_thousands_separators_are_reported_once_with_a_count(tmp_path):
    with pytest.raises(CountFormatError, match="12 cells use thousands separators") as err:
        _read(_separated(6))
    assert "e.g. row 2 column 'Ann' '1,100'" in err.value.reason
    path = tmp_path / "sep.csv"
    path.write_text(_separated(6))
    _, problems = count_problems(path)
    assert len(problems) == 1
    assert "12 cells use thousands separators" in problems[0].reason


def test_thousands_separators_are_counted_alongside_other_problems(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(_separated(3) + "late_mail,x,5\n")
    _, problems = count_problems(path)
    assert [p.row for p in problems] == [2, 5]
    assert "6 cells use thousands separators" in problems[0].reason


def test_one_thousands_separator_keeps_its_own_message():
    with pytest.raises(CountFormatError) as err:
        _read(_csv(["batch_type", "Ann", "Bob"], [["late_mail", '"1,234"', 5]]))
    assert err.value.reason.endswith("(remove thousands separators)")


def test_small_falling_totals_are_corrections_not_per_release_votes():
    """A few votes lost at every release is what corrections look like: merged with a warning, not refused."""
    text = "batch_type,C0,C1,outstanding_early_mail\nearly_mail,0,2,\nearly_mail,0,1,\nearly_mail,0,0,0\n"
    with pytest.warns(racecast.CorrectionWarning):
        count = racecast.read_count(io.StringIO(text), name="small.csv")
    assert count.totals.sum() == 0
