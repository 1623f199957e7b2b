"""The count file format: what is accepted, what is rejected and how the error reads."""

from __future__ import annotations

import numpy as np
import pytest

import racecast
from racecast import CorrectionWarning, CountFormatError

from .conftest import csv_count

GOOD = """release,released_at,batch_type,Ann,Bob,outstanding_late_mail,source
1,2024-11-05T20:00-08:00,early_mail,100,80,500,x
2,2024-11-05T23:00-08:00,election_day,150,160,400,y
3,2024-11-06T17:00-08:00,late_mail,260,230,,z
"""


def test_reads_candidates_types_totals_and_releases():
    c = csv_count(GOOD)
    assert c.candidates == ("Ann", "Bob")
    assert c.batch_types == ("early_mail", "election_day", "late_mail")
    assert c.totals.to_dict() == {"Ann": 260, "Bob": 230}
    assert len(c) == 3
    assert list(c.releases.columns[:4]) == ["released_at", "batch_type", "Ann", "Bob"]
    assert c.increments.loc[3].to_dict() == {"Ann": 110, "Bob": 70}


def test_slicing_gives_the_count_as_it_stood():
    c = csv_count(GOOD)
    first_two = c[:2]
    assert isinstance(first_two, racecast.Count)
    assert len(first_two) == 2
    assert first_two.totals.to_dict() == {"Ann": 150, "Bob": 160}
    assert first_two.latest_outstanding() == {"late_mail": (400.0, 2)}
    assert len(c[:-1]) == 2
    with pytest.raises(ValueError, match="from the first release"):
        c[1:3]
    with pytest.raises(ValueError, match="k >= 1"):
        c[:0]


def test_latest_outstanding_skips_blank_reports():
    assert csv_count(GOOD).latest_outstanding() == {"late_mail": (400.0, 2)}


def _error(text: str) -> CountFormatError:
    with pytest.raises(CountFormatError) as info:
        csv_count(text, name="bad.csv")
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, racecast.RacecastError)
    assert "bad.csv" in str(info.value)
    return info.value


def test_missing_batch_type_column_is_named():
    err = _error("Ann,Bob\n1,2\n")
    assert err.column == "batch_type"


def test_empty_batch_type_names_row_and_column():
    err = _error("batch_type,Ann,Bob\nearly_mail,1,2\n,3,4\n")
    assert (err.row, err.column) == (3, "batch_type")
    assert "row 3" in str(err)
    assert "'batch_type'" in str(err)


def test_batch_type_must_be_snake_case_with_a_suggestion():
    err = _error("batch_type,Ann,Bob\nLate Mail,1,2\n")
    assert "late_mail" in str(err)


@pytest.mark.parametrize("value", ["abc", "1.5", "-3", ""])
def test_bad_vote_cells_name_row_and_candidate(value):
    err = _error(f"batch_type,Ann,Bob\nearly_mail,10,20\nlate_mail,{value},30\n")
    assert (err.row, err.column) == (3, "Ann")


def test_thousands_separator_is_rejected_with_a_hint():
    err = _error('batch_type,Ann,Bob\nearly_mail,"1,234",20\n')
    assert "thousands" in str(err)


def test_fewer_than_two_candidates():
    err = _error("batch_type,Ann,note\nearly_mail,10,x\n")
    assert "at least two candidate" in str(err)


def test_duplicate_candidate_names():
    err = _error("batch_type,Ann,Ann\nearly_mail,10,20\n")
    assert err.column == "Ann"


def test_released_at_out_of_order():
    err = _error(
        "released_at,batch_type,Ann,Bob\n2024-11-06T10:00+00:00,early_mail,1,2\n2024-11-05T10:00+00:00,late_mail,3,4\n"
    )
    assert (err.row, err.column) == (3, "released_at")


def test_released_at_needs_an_offset():
    err = _error("released_at,batch_type,Ann,Bob\n2024-11-06T10:00,early_mail,1,2\n")
    assert "offset" in str(err)


def test_negative_outstanding_is_rejected():
    err = _error("batch_type,Ann,Bob,outstanding_late_mail\nearly_mail,1,2,-5\n")
    assert err.column == "outstanding_late_mail"


def test_correction_is_kept_with_a_warning_and_merged_for_the_model():
    text = "batch_type,Ann,Bob\nearly_mail,100,100\nlate_mail,150,130\nlate_mail,140,135\nlate_mail,200,160\n"
    with pytest.warns(CorrectionWarning, match="row 4"):
        c = csv_count(text)
    assert c.votes[2].tolist() == [140, 135]  # kept as published
    assert c.corrections == [3]
    b = c.batches()
    # the correction (release 3) is merged into release 2's batch: net +40 / +35
    assert b[["Ann", "Bob"]].to_numpy().tolist() == [[100, 100], [40, 35], [60, 25]]
    assert b["batch_type"].tolist() == ["early_mail", "late_mail", "late_mail"]


def test_blank_lines_and_bom_are_fine():
    c = csv_count("\ufeffbatch_type,Ann,Bob\n\nearly_mail,1,2\n\n")
    assert c.totals.to_dict() == {"Ann": 1, "Bob": 2}


def test_from_frame_matches_csv():
    import pandas as pd

    tidy = pd.DataFrame(
        {
            "release": [1, 1, 2, 2],
            "batch_type": ["early_mail", "early_mail", "late_mail", "late_mail"],
            "candidate": ["Ann", "Bob", "Ann", "Bob"],
            "votes": [100, 80, 260, 230],
        }
    )
    c = racecast.Count.from_frame(tidy, outstanding={"late_mail": 300})
    assert c.candidates == ("Ann", "Bob")
    assert np.array_equal(c.votes, [[100, 80], [260, 230]])
    assert c.latest_outstanding() == {"late_mail": (300.0, 2)}


def test_la_file_reads_with_blank_cells_kept(la_count):
    assert len(la_count) == 16
    assert np.isnan(la_count.ballots_counted[:2]).all()
    assert la_count[:4].totals["Rick Caruso"] - la_count[:4].totals["Karen Bass"] == 2695
    assert la_count.outstanding_unit == "ballots"
