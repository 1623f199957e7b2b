"""Robustness: messy counts, corrections, extreme contests, sampler trouble, determinism, side effects.

Each test states one behaviour listed in ``docs/reliability.md``.  Forecasts use the
fast engine unless the behaviour is about NUTS; NUTS tests are few and marked slow
(a fresh process compiles the model first).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import textwrap
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import racecast
from racecast import (
    CorrectionWarning,
    CountFormatError,
    ForecastInputError,
    SamplerWarning,
    UnseenBatchTypeWarning,
)
from racecast import model as rc_model
from racecast.errors import InternalError
from racecast.model import engines as engines_module
from racecast.result import check_invariants

from .conftest import csv_count, quiet_forecast

SRC = Path(racecast.__file__).resolve().parent.parent


def assert_valid(fc: racecast.Forecast) -> None:
    """What every forecast must satisfy, checked independently of racecast's own check."""
    wp = fc.win_probability.to_numpy(dtype=float)
    assert np.isfinite(wp).all()
    assert (wp >= 0).all()
    assert (wp <= 1).all()
    assert wp.sum() == pytest.approx(1.0, abs=1e-12)  # plurality: one winner per draw
    final = fc.final_draws
    assert np.issubdtype(final.dtype, np.integer)
    if fc.settings["priors"].get("revision_rel") or fc.settings["priors"].get("revision_abs"):
        assert (final >= 0).all(), "revisions may lower a total, never below zero"
    else:
        assert (final >= fc.count.votes[-1]).all(), "ballots are added, never taken away"
    for table in (fc.final_share, fc.final_votes):
        values = table.to_numpy(dtype=float)
        assert np.isfinite(values).all()
        assert (table["lower"] <= table["median"]).all()
        assert (table["median"] <= table["upper"]).all()
    assert np.isfinite(fc.final_margin).all()
    json.dumps(fc.to_dict(), allow_nan=False)  # no NaN/inf anywhere in the serialised forecast
    assert fc.summary()


def fast(count: racecast.Count, **kwargs) -> racecast.Forecast:
    kwargs.setdefault("seed", 7)
    kwargs.setdefault("draws", 1000)
    return quiet_forecast(count, engine="fast", **kwargs)


# ---------------------------------------------------------------------------
# Input: what is accepted and what is refused (the full grammar is fuzzed in test_fuzz.py)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ['"1,234"', "1.234.567", '"1 234"', "1'234"])
def test_thousands_separators_are_refused_with_a_hint_to_remove_them(cell):
    with pytest.raises(CountFormatError, match="thousands") as info:
        csv_count(f"batch_type,Ann,Bob\nearly_mail,{cell},20\n", name="sep.csv")
    assert (info.value.source, info.value.row, info.value.column) == ("sep.csv", 2, "Ann")


@pytest.mark.parametrize("cell", ["1e5", "1.2E+05"])
def test_scientific_notation_is_refused_because_spreadsheets_round_it(cell):
    with pytest.raises(CountFormatError, match="scientific notation"):
        csv_count(f"batch_type,Ann,Bob\nearly_mail,{cell},20\n")


def test_a_zero_decimal_part_is_accepted_as_spreadsheets_write_integers():
    assert csv_count("batch_type,Ann,Bob\nearly_mail,1234.0,20.\n").votes.tolist() == [[1234, 20]]


@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-inf", "N/A", "null"])
def test_missing_or_infinite_votes_are_refused(cell):
    with pytest.raises(CountFormatError, match="finite") as info:
        csv_count(f"batch_type,Ann,Bob\nearly_mail,10,20\nlate_mail,{cell},30\n")
    assert (info.value.row, info.value.column) == (3, "Ann")


def test_the_largest_accepted_number_is_ten_billion():
    assert csv_count(f"batch_type,Ann,Bob\nearly_mail,{10**10},1\n").votes[0, 0] == 10**10
    with pytest.raises(CountFormatError, match="implausibly large"):
        csv_count(f"batch_type,Ann,Bob\nearly_mail,{10**10 + 1},1\n")
    with pytest.raises(CountFormatError, match="implausibly large"):
        csv_count(f"batch_type,Ann,Bob\nearly_mail,{'9' * 5000},1\n")


@pytest.mark.parametrize("cell", ["١٢٣", "１２", "+4"])
def test_only_ascii_digits_without_a_sign_are_numbers(cell):
    with pytest.raises(CountFormatError, match=r"0-9|sign"):
        csv_count(f"batch_type,Ann,Bob\nearly_mail,{cell},1\n")


@pytest.mark.parametrize(("sep", "word"), [(";", "semicolons"), ("\t", "tabs")])
def test_other_delimiters_are_refused_naming_the_delimiter(sep, word):
    text = sep.join(["batch_type", "Ann", "Bob"]) + "\n" + sep.join(["early_mail", "1", "2"]) + "\n"
    with pytest.raises(CountFormatError, match=word):
        csv_count(text)


def test_bom_is_accepted_from_a_path_a_text_buffer_and_a_bytes_buffer(tmp_path):
    text = "\ufeffbatch_type,Zoë,李明\nearly_mail,1,2\n"
    path = tmp_path / "bom.csv"
    path.write_bytes(text.encode("utf-8"))
    for source in (path, io.StringIO(text), io.BytesIO(text.encode("utf-8"))):
        count = racecast.read_count(source)
        assert count.candidates == ("Zoë", "李明")


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_non_utf8_files_are_refused_with_what_to_do(tmp_path, encoding):
    path = tmp_path / "enc.csv"
    path.write_bytes("batch_type,Zoë,Bob\nearly_mail,1,2\n".encode(encoding))
    with pytest.raises(CountFormatError, match="UTF-8") as info:
        racecast.read_count(path)
    assert info.value.source == path.name  # named by its file name, not its path


def test_blank_lines_are_skipped_and_errors_point_at_the_physical_line():
    text = "batch_type,Ann,Bob\n\nearly_mail,1,2\n\n\nlate_mail,x,3\n"
    with pytest.raises(CountFormatError) as info:
        csv_count(text)
    assert (info.value.row, info.value.column) == (6, "Ann")


def test_unicode_names_are_kept_exactly_but_two_forms_of_one_name_are_refused():
    nfc, nfd = "Zo\u00eb", "Zoe\u0308"
    assert csv_count(f"batch_type,{nfc},Bob\nearly_mail,1,2\n").candidates == (nfc, "Bob")
    with pytest.raises(CountFormatError, match="different Unicode forms"):
        csv_count(f"batch_type,{nfc},{nfd}\nearly_mail,1,2\n")


def test_an_invisible_character_in_a_name_is_refused():
    with pytest.raises(CountFormatError, match="U\\+200B"):
        csv_count("batch_type,Ann\u200b,Bob\nearly_mail,1,2\n")


@pytest.mark.parametrize("column", ["Release", "Batch Type", "Outstanding late mail", "Ballots Counted"])
def test_a_near_miss_of_a_reserved_column_is_not_read_as_a_candidate(column):
    with pytest.raises(CountFormatError) as info:
        csv_count(f"batch_type,Ann,Bob,{column}\nearly_mail,1,2,3\n")
    assert "rename" in str(info.value) or "name it" in str(info.value)


def test_a_path_that_cannot_be_read_is_a_count_format_error(tmp_path):
    for bad in (tmp_path / "missing.csv", tmp_path, "batch_type,A,B\nearly_mail,1,2\n"):
        with pytest.raises(CountFormatError):
            racecast.read_count(bad)


def test_a_quoted_multiline_note_does_not_shift_the_reported_row():
    text = 'batch_type,Ann,Bob,note\nearly_mail,1,2,"two\nlines"\nlate_mail,x,3,\n'
    with pytest.raises(CountFormatError) as info:
        csv_count(text)
    assert info.value.row == 4


def test_from_frame_points_at_the_tidy_row_and_column():
    tidy = pd.DataFrame(
        {
            "release": [1, 1, 2, 2],
            "batch_type": ["early_mail"] * 2 + ["late_mail"] * 2,
            "candidate": ["Ann", "Bob"] * 2,
            "votes": [10, 20, 30, np.nan],
        }
    )
    with pytest.raises(CountFormatError) as info:
        racecast.Count.from_frame(tidy)
    assert (info.value.row, info.value.column) == (5, "votes")
    assert "Bob" in str(info.value)
    mixed = tidy.assign(votes=[10, 20, 30, 40], batch_type=["early_mail", "late_mail"] * 2)
    with pytest.raises(CountFormatError, match="one batch type") as info:
        racecast.Count.from_frame(mixed)
    assert info.value.column == "batch_type"


REFUSALS = {
    "1.5": "must be a whole number, got",
    "-3": "cannot be negative",
    "1e5": "scientific notation",
    "1,234": "thousands separators",
    "١٢٣": "ASCII digits 0-9",
    "+4": "without a sign",
    "nan": "finite",
    "99999999999": "implausibly large",
    "0x10": "must be a whole number, got",
}


@pytest.mark.parametrize("cell", list(REFUSALS))
def test_each_refusal_says_what_is_wrong_and_nothing_else(cell):
    with pytest.raises(CountFormatError) as info:
        csv_count(f'batch_type,Ann,Bob\nearly_mail,"{cell}",1\n')
    said = [phrase for phrase in set(REFUSALS.values()) if phrase in info.value.reason]
    assert said == [REFUSALS[cell]]
    assert repr(cell) in info.value.reason


def test_a_frame_with_two_columns_of_one_name_is_refused():
    tidy = pd.DataFrame(
        [[1, "early_mail", "A", 1, "late_mail"]],
        columns=["release", "batch_type", "candidate", "votes", "batch_type"],
    )
    with pytest.raises(CountFormatError, match="two columns") as info:
        racecast.Count.from_frame(tidy)
    assert info.value.column == "batch_type"


def test_an_outstanding_table_indexed_by_no_release_is_refused():
    tidy = pd.DataFrame(
        {"release": [1, 1], "batch_type": ["m"] * 2, "candidate": ["A", "B"], "votes": [1, 2]}
    )
    with pytest.raises(CountFormatError, match="not a release"):
        racecast.Count.from_frame(tidy, outstanding=pd.DataFrame({"late_mail": [100]}, index=[7]))
    ok = racecast.Count.from_frame(tidy, outstanding=pd.DataFrame({"late_mail": [100]}, index=[1]))
    assert ok.latest_outstanding() == {"late_mail": (100.0, 1)}


def test_reading_never_changes_a_value():
    text = "release,batch_type,Ann,Bob,outstanding_late_mail\n3,early_mail,007,12.0,1500.5\n"
    count = csv_count(text)
    assert count.release_ids.tolist() == [3]
    assert count.votes.tolist() == [[7, 12]]
    assert count.latest_outstanding() == {"late_mail": (1500.5, 3)}


# ---------------------------------------------------------------------------
# Corrections
# ---------------------------------------------------------------------------
# A county count in which the registrar corrects a double-counted precinct in
# release 5 (both candidates lose votes), then goes on counting late mail.
CORRECTED = """release,released_at,batch_type,Hahn,Villanueva,outstanding_late_mail,note
1,2024-11-05T20:05-08:00,early_mail,165250,158857,,
2,2024-11-05T22:45-08:00,vote_center,185672,187093,,
3,2024-11-06T03:30-08:00,vote_center,240194,252476,640000,semi-official election-night result
4,2024-11-07T17:00-08:00,late_mail,271246,273941,560000,
5,2024-11-08T11:00-08:00,late_mail,270042,272953,,precinct 0412 counted twice; corrected
6,2024-11-08T17:00-08:00,late_mail,298817,296105,470000,
"""
# The same count had the registrar published releases 4 and 5 as one (the
# corrected totals at once).
CORRECTED_AS_ONE = """release,released_at,batch_type,Hahn,Villanueva,outstanding_late_mail
1,2024-11-05T20:05-08:00,early_mail,165250,158857,
2,2024-11-05T22:45-08:00,vote_center,185672,187093,
3,2024-11-06T03:30-08:00,vote_center,240194,252476,640000
5,2024-11-08T11:00-08:00,late_mail,270042,272953,560000
6,2024-11-08T17:00-08:00,late_mail,298817,296105,470000
"""


def test_a_correction_is_kept_as_published_and_announced_with_its_row():
    with pytest.warns(CorrectionWarning) as record:
        count = csv_count(CORRECTED, name="county.csv")
    messages = [str(w.message) for w in record]
    assert any("row 6" in m and "'Hahn'" in m for m in messages)
    assert any("row 6" in m and "'Villanueva'" in m for m in messages)
    assert count.votes[4].tolist() == [270042, 272953]  # as published
    assert count.corrections == [5]
    assert count.increments.loc[5].tolist() == [-1204, -988]


def test_the_model_merges_a_correction_into_the_batch_before_it_never_a_negative_batch():
    with pytest.warns(CorrectionWarning):
        count = csv_count(CORRECTED)
    batches = count.batches()
    assert (batches[["Hahn", "Villanueva"]].to_numpy() >= 0).all()
    merged = batches[(batches["first"] == 3) & (batches["last"] == 4)]
    assert merged[["Hahn", "Villanueva"]].to_numpy().tolist() == [[270042 - 240194, 272953 - 252476]]
    assert merged["batch_type"].tolist() == ["late_mail"]


def test_a_corrected_count_forecasts_like_the_count_published_without_the_error():
    with pytest.warns(CorrectionWarning):
        corrected = csv_count(CORRECTED)
    as_one = csv_count(CORRECTED_AS_ONE)
    a, b = fast(corrected, seed=11), fast(as_one, seed=11)
    assert_valid(a)
    assert np.array_equal(a.final_draws, b.final_draws)


def test_a_correction_that_undoes_several_releases_merges_back_as_far_as_needed():
    text = (
        "batch_type,Ann,Bob,outstanding_late_mail\n"
        "early_mail,100,100,\nlate_mail,150,130,\nlate_mail,180,170,\nlate_mail,120,140,\nlate_mail,200,190,300\n"
    )
    with pytest.warns(CorrectionWarning):
        count = csv_count(text)
    batches = count.batches()
    assert (batches[["Ann", "Bob"]].to_numpy() >= 0).all()
    assert batches[["Ann", "Bob"]].to_numpy().sum(axis=0).tolist() == [200, 190]
    assert_valid(fast(count))


# ---------------------------------------------------------------------------
# Messy releases
# ---------------------------------------------------------------------------
BASE = (
    "batch_type,Ann,Bob,outstanding_late_mail\n"
    "early_mail,100,80,\nvote_center,150,160,\nlate_mail,200,190,300\n"
)


def test_a_release_that_adds_no_votes_changes_nothing():
    repeated = BASE.replace("vote_center,150,160,\n", "vote_center,150,160,\nvote_center,150,160,\n")
    a, b = fast(csv_count(BASE)), fast(csv_count(repeated))
    assert len(csv_count(repeated).batches()) == len(csv_count(BASE).batches())
    assert np.array_equal(a.final_draws, b.final_draws)


def test_a_duplicated_release_number_is_refused():
    text = "release,batch_type,Ann,Bob\n1,early_mail,100,80\n2,late_mail,150,160\n2,late_mail,150,160\n"
    with pytest.raises(CountFormatError, match="must increase") as info:
        csv_count(text)
    assert (info.value.row, info.value.column) == (4, "release")


def test_a_candidate_with_no_votes_is_valid_and_all_but_never_wins():
    fc = fast(
        csv_count(
            "batch_type,Ann,Bob,Cy,outstanding_late_mail\nearly_mail,100,80,0,\nlate_mail,200,190,0,300\n"
        )
    )
    assert_valid(fc)
    assert fc.win_probability["Cy"] < 0.01


def test_a_batch_type_seen_once_is_learnt_from():
    fc = fast(
        csv_count("batch_type,Ann,Bob,outstanding_provisional\nearly_mail,100,80,\nprovisional,110,95,50\n")
    )
    assert_valid(fc)
    assert "provisional" in fc.posterior_types


def test_outstanding_for_a_type_never_counted_warns_and_still_forecasts():
    count = csv_count(
        "batch_type,Ann,Bob,outstanding_provisional\nearly_mail,100,80,\nlate_mail,150,160,300\n"
    )
    with pytest.warns(UnseenBatchTypeWarning, match="provisional"):
        fc = racecast.forecast(count, engine="fast", seed=1, draws=1000)
    assert_valid(fc)
    assert not fc.remaining.loc["provisional", "counted"]


def test_outstanding_that_increases_uses_the_latest_report():
    count = csv_count(
        "batch_type,Ann,Bob,outstanding_late_mail\nearly_mail,100,80,200\nlate_mail,150,160,350\n"
    )
    fc = fast(count)
    assert fc.remaining.loc["late_mail", "amount"] == 350
    assert_valid(fc)


def test_a_stale_outstanding_estimate_warns_and_what_was_counted_since_is_subtracted():
    count = csv_count(
        "batch_type,Ann,Bob,outstanding_late_mail\nearly_mail,100,80,300\nlate_mail,150,160,\nlate_mail,200,190,\n"
    )
    with pytest.warns(racecast.StaleOutstandingWarning, match="last reported at release 1"):
        fc = racecast.forecast(count, engine="fast", seed=1, draws=500)
    assert fc.remaining.loc["late_mail", "amount"] == 300 - (130 + 80)  # the two late-mail releases' votes
    assert "less 210 counted since in 2 release(s)" in fc.remaining.loc["late_mail", "source"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", racecast.StaleOutstandingWarning)
        fc = racecast.forecast(count, engine="fast", seed=1, draws=500, remaining={"late_mail": 120})
    assert fc.remaining.loc["late_mail", "amount"] == 120


def test_a_forecast_never_changes_the_count():
    with pytest.warns(CorrectionWarning):
        count = csv_count(CORRECTED)
    votes, out = count.votes.copy(), count.outstanding.copy()
    fast(count)
    assert np.array_equal(count.votes, votes)
    pd.testing.assert_frame_equal(count.outstanding, out)


def test_ballots_counted_of_zero_cannot_convert_outstanding_ballots():
    count = csv_count("batch_type,Ann,Bob,ballots_counted,outstanding_late_mail\nearly_mail,100,80,0,300\n")
    with pytest.raises(ForecastInputError, match="ballots_counted"):
        fast(count)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"remaining": {"late_mail": 1e300}}, "implausibly large"),
        ({"remaining": {"Late Mail": 10}}, "late_mail"),
        ({"remaining": [("late_mail", 10)]}, "mapping"),
        ({"outstanding_sd": 1e300}, "outstanding_sd"),
        ({"seed": -1}, "seed"),
        ({"priors": racecast.Priors(type_sd=0.0)}, "positive"),
    ],
)
def test_unusable_arguments_are_forecast_input_errors(kwargs, match):
    with pytest.raises(ForecastInputError, match=match):
        fast(csv_count(BASE), **kwargs)


# ---------------------------------------------------------------------------
# Extremes
# ---------------------------------------------------------------------------
def test_ten_votes_in_all():
    assert_valid(
        fast(csv_count("batch_type,Ann,Bob,outstanding_late_mail\nearly_mail,3,2,\nlate_mail,5,5,4\n"))
    )


def test_a_hundred_million_votes():
    count = csv_count(
        "batch_type,Ann,Bob,outstanding_late_mail\n"
        "early_mail,30000000,29000000,\nvote_center,45000000,46000000,\nlate_mail,50000000,50000000,20000000\n"
    )
    fc = fast(count)
    assert_valid(fc)
    added = fc.final_draws.sum(axis=1) - count.votes[-1].sum()
    assert np.median(added) == pytest.approx(20_000_000, rel=0.1)  # the outstanding votes are all simulated


@pytest.mark.slow  # the fast engine's dense linear algebra grows with the number of candidates
def test_twenty_candidates():
    rng = np.random.default_rng(0)
    names = [f"Candidate {i}" for i in range(20)]
    votes = np.cumsum(rng.integers(0, 1000, (4, 20)), axis=0)
    rows = "\n".join(
        ",".join([t, *map(str, v), o])
        for t, v, o in zip(
            ["early_mail", "vote_center", "late_mail", "late_mail"], votes, ["", "", "", "5000"], strict=False
        )
    )
    fc = fast(
        csv_count("batch_type," + ",".join(names) + ",outstanding_late_mail\n" + rows + "\n"), draws=500
    )
    assert_valid(fc)
    assert len(fc.win_probability) == 20


def test_ten_batch_types():
    types = [f"type_{i}" for i in range(10)]
    lines = ["batch_type,Ann,Bob," + ",".join("outstanding_" + t for t in types)]
    a = b = 0
    for i, t in enumerate(types):
        a, b = a + 100 + 10 * i, b + 120 - 5 * i
        lines.append(f"{t},{a},{b}," + ",".join(["200" if i == 9 else ""] * 10))
    fc = fast(csv_count("\n".join(lines) + "\n"))
    assert_valid(fc)
    assert set(types) <= set(fc.posterior_types)


def test_nothing_outstanding_is_certain_and_says_so():
    count = csv_count("batch_type,Ann,Bob,outstanding_late_mail\nearly_mail,100,80,\nlate_mail,200,190,0\n")
    fc = fast(count)
    assert_valid(fc)
    assert fc.win_probability.to_dict() == {"Ann": 1.0, "Bob": 0.0}
    assert (fc.final_votes["lower"] == fc.final_votes["upper"]).all()
    assert fc.final_votes["median"].tolist() == [200, 190]
    assert "outstanding: nothing" in fc.summary()


def test_a_complete_count_may_also_say_so_with_an_empty_remaining():
    fc = fast(csv_count("batch_type,Ann,Bob\nearly_mail,100,80\n"), remaining={})
    assert fc.win_probability.to_dict() == {"Ann": 1.0, "Bob": 0.0}


def test_a_tie_with_nothing_outstanding_is_a_coin_flip_reported_as_a_tie():
    fc = fast(csv_count("batch_type,Ann,Bob,outstanding_late_mail\nearly_mail,100,100,0\n"), draws=4000)
    assert_valid(fc)
    tie = fc.outcomes.query("event == 'tie'")["probability"].item()
    assert tie == 1.0
    assert fc.win_probability["Ann"] == pytest.approx(0.5, abs=0.05)


def test_everything_outstanding_but_one_release():
    count = csv_count(
        "batch_type,Ann,Bob,outstanding_early_mail,outstanding_late_mail\nearly_mail,100,80,1000000,500000\n"
    )
    fc = fast(count)
    assert_valid(fc)
    assert (fc.final_share["lower"] < fc.final_share["upper"]).all()


# ---------------------------------------------------------------------------
# Invariants over random valid counts
# ---------------------------------------------------------------------------
@st.composite
def random_counts(draw: st.DrawFn) -> tuple[str, int]:
    k = draw(st.integers(2, 5))
    n = draw(st.integers(1, 6))
    pool = ["early_mail", "vote_center", "late_mail", "provisional"]
    types = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
    steps = np.array(
        draw(st.lists(st.lists(st.integers(-50, 20000), min_size=k, max_size=k), min_size=n, max_size=n))
    )
    votes = np.maximum(np.cumsum(steps, axis=0), 0)
    out_types = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
    amounts = draw(st.lists(st.integers(0, 200000), min_size=len(out_types), max_size=len(out_types)))
    header = ["batch_type", *[f"C{j}" for j in range(k)], *["outstanding_" + t for t in out_types]]
    rows = [
        [types[i], *map(str, votes[i]), *([str(a) for a in amounts] if i == n - 1 else [""] * len(out_types))]
        for i in range(n)
    ]
    return "\n".join(",".join(r) for r in [header, *rows]) + "\n", draw(st.integers(0, 2**31))


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_counts())
def test_every_forecast_of_a_random_valid_count_is_valid(case):
    text, seed = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorrectionWarning)
        count = csv_count(text)
    assert_valid(fast(count, seed=seed, draws=200))


def test_the_invariant_check_refuses_a_broken_forecast():
    fc = fast(csv_count(BASE), priors=racecast.Priors.model_only())  # no revisions: final >= counted
    broken = replace(fc.rule_result, win_probability=fc.win_probability * np.nan)
    with pytest.raises(InternalError, match=r"internal check failed.*bug in racecast"):
        check_invariants(replace(fc, rule_result=broken))
    lost = fc.final_draws.copy()
    lost[0, 0] = -1
    with pytest.raises(InternalError, match="below the votes already counted"):
        check_invariants(replace(fc, final_draws=lost))


def test_with_revisions_final_totals_may_fall_below_the_count_but_never_below_zero():
    priors = racecast.Priors(revision_rel=0.05, revision_abs=1.0)
    fc = racecast.forecast(
        csv_count(BASE), engine="fast", seed=3, draws=400, priors=priors, remaining={"late_mail": 0}
    )
    assert (fc.final_draws < fc.count.votes[-1]).any()  # revisions can lower a total
    assert (fc.final_draws >= 0).all()
    lost = fc.final_draws.copy()
    lost[0, 0] = -1
    with pytest.raises(InternalError, match="negative"):
        check_invariants(replace(fc, final_draws=lost))


# ---------------------------------------------------------------------------
# Sampler trouble: NUTS is checked after every fit, retried once, then replaced
# ---------------------------------------------------------------------------
GOOD_DIAG = {"r_hat_max": 1.0, "ess_bulk_min": 900.0, "ess_tail_min": 800.0, "divergences": 0}
BAD_DIAG = {"r_hat_max": 1.08, "ess_bulk_min": 45.0, "ess_tail_min": 30.0, "divergences": 12}


def _scripted_nuts(monkeypatch, script):
    """Replace NUTS by the exact fast posterior carrying scripted diagnostics (or raising)."""
    calls: list[float] = []

    def fake_fit_nuts(data, *, draws, rng, target_accept=0.9, **_):
        calls.append(target_accept)
        step = script[len(calls) - 1]
        if isinstance(step, Exception):
            raise step
        post = rc_model.fit_fast(data, draws=draws, rng=rng)
        post.diagnostics.clear()
        post.diagnostics.update({**step, "engine": "nuts"})
        return post

    monkeypatch.setattr(engines_module, "fit_nuts", fake_fit_nuts)
    return calls


def test_poor_nuts_diagnostics_twice_fall_back_to_the_fast_engine_with_a_warning(monkeypatch):
    calls = _scripted_nuts(monkeypatch, [BAD_DIAG, BAD_DIAG])
    with pytest.warns(SamplerWarning, match="fast engine") as record:
        fc = quiet_forecast(csv_count(BASE), engine="nuts", seed=3, draws=1000)
    assert calls == [0.9, engines_module.RETRY_TARGET_ACCEPT]
    assert calls[1] > calls[0]
    msg = str(record[0].message)
    assert "R-hat 1.080" in msg
    assert "12 divergent" in msg
    assert "target_accept=0.99" in msg
    d = fc.diagnostics
    assert d["engine"] == "fast"
    assert d["requested_engine"] == "nuts"
    assert d["retried"]
    assert [a["target_accept"] for a in d["nuts_attempts"]] == calls
    assert d["nuts_attempts"][0]["divergences"] == 12
    assert fc.posterior.engine == "fast"
    assert any("fast engine" in w for w in fc.warnings)
    assert_valid(fc)


def test_a_successful_retry_is_recorded_without_a_warning(monkeypatch):
    calls = _scripted_nuts(monkeypatch, [BAD_DIAG, GOOD_DIAG])
    with warnings.catch_warnings():
        warnings.simplefilter("error", SamplerWarning)
        fc = quiet_forecast(csv_count(BASE), engine="nuts", seed=3, draws=1000)
    assert len(calls) == 2
    assert fc.diagnostics["retried"]
    assert "fallback" not in fc.diagnostics
    assert fc.diagnostics["nuts_attempts"][1]["problems"] == []
    assert_valid(fc)


def test_a_sampler_error_goes_straight_to_the_fast_engine_and_says_why(monkeypatch):
    calls = _scripted_nuts(monkeypatch, [RuntimeError("nutpie: initialization failed")])
    with pytest.warns(SamplerWarning, match="initialization failed"):
        fc = quiet_forecast(csv_count(BASE), engine="nuts", seed=3, draws=1000)
    assert calls == [0.9]
    assert "initialization failed" in fc.diagnostics["nuts_attempts"][0]["error"]
    assert_valid(fc)


def test_clean_nuts_diagnostics_are_used_as_they_are(monkeypatch):
    calls = _scripted_nuts(monkeypatch, [GOOD_DIAG])
    with warnings.catch_warnings():
        warnings.simplefilter("error", SamplerWarning)
        fc = quiet_forecast(csv_count(BASE), engine="nuts", seed=3, draws=1000)
    assert calls == [0.9]
    assert not fc.diagnostics["retried"]
    assert "fallback" not in fc.diagnostics
    assert fc.diagnostics["r_hat_max"] == GOOD_DIAG["r_hat_max"]


def test_the_ess_threshold_follows_a_small_number_of_draws(monkeypatch):
    calls = _scripted_nuts(monkeypatch, [{**GOOD_DIAG, "ess_bulk_min": 150.0}])
    quiet_forecast(csv_count(BASE), engine="nuts", seed=3, draws=200)  # 150 >= 200 / 2
    assert calls == [0.9]


def _nuts(count, **kwargs):
    """A real NUTS forecast; returns it with the sampler warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SamplerWarning)
        warnings.simplefilter("ignore", UnseenBatchTypeWarning)
        fc = racecast.forecast(count, engine="nuts", **kwargs)
    return fc, [w for w in caught if issubclass(w.category, SamplerWarning)]


@pytest.mark.slow
def test_nuts_is_checked_valid_and_deterministic_on_the_la_count(la_count):
    a, warned_a = _nuts(la_count[:4], seed=5, draws=1000)
    b, _ = _nuts(la_count[:4], seed=5, draws=1000)
    for fc, warned in ((a, warned_a),):
        assert_valid(fc)
        attempts = fc.diagnostics["nuts_attempts"]
        assert attempts[0]["target_accept"] == 0.9
        # NUTS passes its checks on the first try or after one retry at a higher
        # target_accept (seed 5 draws one divergent transition at 0.9 on this count, as
        # seed 7 did before rate_mu_sd was 5): no fallback and no warning either way
        assert warned == []
        assert "fallback" not in fc.diagnostics
        assert fc.diagnostics["engine"] == "nuts"
        assert len(attempts) <= 2
        assert attempts[-1]["problems"] == []
        assert all(x["target_accept"] > 0.9 for x in attempts[1:])
    assert np.array_equal(a.final_draws, b.final_draws)
    assert a.diagnostics == b.diagnostics


@pytest.mark.slow
def test_nuts_on_a_ten_vote_count_with_a_correction():
    text = (
        "batch_type,Ann,Bob,outstanding_late_mail\n"
        "early_mail,3,2,\nlate_mail,4,4,\nlate_mail,4,3,\nlate_mail,5,5,4\n"
    )
    with pytest.warns(CorrectionWarning):
        count = csv_count(text)
    fc, warned = _nuts(count, seed=2, draws=1000)
    assert_valid(fc)
    assert warned == []
    assert "fallback" not in fc.diagnostics
    assert fc.diagnostics["engine"] == "nuts"
    assert [x["problems"] for x in fc.diagnostics["nuts_attempts"]] == [[]]


# ---------------------------------------------------------------------------
# Determinism and side effects
# ---------------------------------------------------------------------------
_DIGEST_SCRIPT = """
import hashlib, json, warnings, racecast
warnings.simplefilter("ignore")
count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))[:{k}]
fc = racecast.forecast(count, engine="fast", seed={seed}, draws=1500)
h = hashlib.sha256(fc.final_draws.tobytes())
h.update(fc.win_probability.to_numpy().tobytes())
h.update(json.dumps(fc.to_dict(), sort_keys=True).encode())
print(h.hexdigest())
"""


def _digest_here(k: int, seed: int) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))[:k]
        fc = racecast.forecast(count, engine="fast", seed=seed, draws=1500)
    h = hashlib.sha256(fc.final_draws.tobytes())
    h.update(fc.win_probability.to_numpy().tobytes())
    h.update(json.dumps(fc.to_dict(), sort_keys=True).encode())
    return h.hexdigest()


def _python(script: str, *, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    full_env = {**os.environ, "PYTHONPATH": str(SRC), **(env or {})}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_same_count_and_seed_give_bit_identical_forecasts_in_one_process():
    assert _digest_here(4, 99) == _digest_here(4, 99)
    assert _digest_here(4, 99) != _digest_here(4, 100), "the seed is used"


def test_same_count_and_seed_give_bit_identical_forecasts_across_processes():
    here = _digest_here(6, 2022)
    script = _DIGEST_SCRIPT.format(k=6, seed=2022)
    for hash_seed in ("0", "4242"):
        assert _python(script, env={"PYTHONHASHSEED": hash_seed}) == here


_SIDE_EFFECT_SCRIPT = """
import socket

def _blocked(*args, **kwargs):
    raise RuntimeError("racecast attempted network access")

socket.socket.connect = socket.socket.connect_ex = _blocked
socket.create_connection = socket.getaddrinfo = _blocked

import io, warnings
import racecast

warnings.simplefilter("ignore")
count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
fc = racecast.forecast(count[:4], engine="fast", seed=1)
fc.summary(); fc.to_dict()
racecast.read_count(io.StringIO("batch_type,A,B\\nearly_mail,1,2\\n"))
print("done")
"""


def test_no_network_and_no_files_written_outside_given_paths(tmp_path):
    home, tmp, cwd = tmp_path / "home", tmp_path / "tmp", tmp_path / "cwd"
    for d in (home, tmp, cwd):
        d.mkdir()
    env = {
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "MPLCONFIGDIR": str(home / "mpl"),
    }
    assert _python(_SIDE_EFFECT_SCRIPT, env=env, cwd=cwd) == "done"
    written = [str(p.relative_to(tmp_path)) for d in (home, tmp, cwd) for p in d.rglob("*")]
    assert written == []
