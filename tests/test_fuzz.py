"""Property-based fuzzing of every way a count gets in: ``read_count`` and ``Count.from_frame``.

Whatever the input, the outcome is one of two: a :class:`racecast.Count` that holds
exactly what the input said, or a :class:`racecast.CountFormatError` naming the
source (and the row and column when the problem is in one) with a message that says
what to do.  No other exception, no warning that is not a racecast warning, and no
value silently changed.

The accepted grammar (see ``docs/reliability.md``) is written out independently here
(``_ACCEPTED_WHOLE`` and friends) and used as an oracle: a cell is accepted exactly
when the documented rule says so.

Each ``@_feeds(n, reader)`` below is the number of generated inputs per run, checked
against the calls the reader really gets; the totals are reported in ``docs/reliability.md``.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import unicodedata
import warnings
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import racecast
from racecast import Count, CountFormatError, RacecastWarning

MUTATED_CSV_FUZZ = 1000
CELL_ORACLE_FUZZ = 1000
RAW_TEXT_FUZZ = 500
RAW_BYTES_FUZZ = 300
FRAME_FUZZ = 1000
VALID_CSV_CASES = 300
ROUND_TRIP_CASES = 200

FUZZ = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

#: Inputs each reader is promised per run (summed over the tests that feed it), and inputs it was given.
_BUDGET: Counter[str] = Counter()
_FED: Counter[str] = Counter()


def _feeds(examples: int, *readers: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Run a hypothesis test on ``examples`` inputs, and fail it if its readers were given fewer.

    Hypothesis stops early when a strategy runs out of distinct inputs or rejects too many, so the
    number of generated inputs is checked where it counts: calls of the reader itself.
    """

    def decorate(test: Callable[..., None]) -> Callable[..., None]:
        run_examples = settings(FUZZ, max_examples=examples)(test)
        for reader in readers:
            _BUDGET[reader] += examples

        @functools.wraps(run_examples)
        def run(*args: object, **kwargs: object) -> None:
            before = {reader: _FED[reader] for reader in readers}
            run_examples(*args, **kwargs)
            for reader in readers:
                fed = _FED[reader] - before[reader]
                assert fed >= examples, (
                    f"{reader} was given {fed} inputs, not the {examples} this test promises"
                )

        return run

    return decorate


# The documented grammar, written independently of racecast's implementation.
_ACCEPTED_WHOLE = re.compile(r"[0-9]+(\.0*)?")
_ACCEPTED_DECIMAL = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")
_SNAKE = re.compile(r"[a-z][a-z0-9_]*")
_LIMIT = 10**10

NAMES = [
    "Karen Bass",
    "Rick Caruso",
    "Zoë Lofgren",
    "李明",
    "José Núñez",
    "O'Brien",
    "Smith, Jr.",
    'Ann "Nan" Lee',
    "محمد علي",
    "Ö",
    "Write-in",
    "A",
    "B",
    "Ōkubo",
    "Ελένη",
    "x" * 60,
]
TYPES = ["early_mail", "vote_center", "election_day", "late_mail", "provisional", "mixed", "t2"]
NASTY_CELLS = [
    "",
    " ",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "1e5",
    "1E+05",
    "1.5",
    "-3",
    "+4",
    "1,234",
    "1.234.567",
    "1 234",
    "1'234",
    "1_000",
    "١٢٣",
    "１２",
    "0x10",
    "12.0",
    "12.",
    "007",
    "99999999999999999999999",
    str(_LIMIT),
    str(_LIMIT + 1),
    "\ufeff12",
    "12\x00",
    '"',
    "None",
    "null",
    "N/A",
    "#VALUE!",
    "—",
    "½",
    "²",
    "True",
    " 42 ",
    "4\u00a0000",
    "\t5",
    "５",
    ".5",
    "0.0",
    "1.0e3",
    "--1",
    "1-",
    "١.٠",
]
JUNK_HEADERS = [
    "",
    " ",
    "batch_type",
    "Batch Type",
    "release",
    "Release",
    "released_at",
    "note",
    "Source",
    "outstanding_late_mail",
    "Outstanding late mail",
    "outstanding_",
    "outstanding_Late Mail",
    "ballots_counted",
    "\ufeffbatch_type",
    "Ann\u200b",
    "Zoe\u0308",
    "Zoë",
    "A\tB",
    "A;B",
    "Karen Bass",
]


def _text_cell() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NASTY_CELLS),
        st.integers(-(10**12), 10**12).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.text(max_size=8),
    )


# ---------------------------------------------------------------------------
# valid tables, written as CSV in any of the accepted ways
# ---------------------------------------------------------------------------
@st.composite
def valid_tables(draw: st.DrawFn) -> dict:
    k = draw(st.integers(2, 5))
    names = draw(
        st.lists(
            st.sampled_from(NAMES),
            min_size=k,
            max_size=k,
            unique_by=lambda s: unicodedata.normalize("NFC", s),
        )
    )
    n = draw(st.integers(1, 6))
    steps = draw(st.lists(st.lists(st.integers(0, 5000), min_size=k, max_size=k), min_size=n, max_size=n))
    votes = np.cumsum(np.array(steps, dtype=np.int64), axis=0)
    types = draw(st.lists(st.sampled_from(TYPES), min_size=n, max_size=n))
    table: dict = {"names": names, "votes": votes, "types": types, "extra": {}}
    if draw(st.booleans()):
        start = draw(st.integers(1, 1000))
        table["extra"]["release"] = [str(start + 3 * i) for i in range(n)]
    if draw(st.booleans()):
        table["extra"]["released_at"] = [f"2024-11-0{5 + i // 3}T{10 + i:02d}:00-08:00" for i in range(n)]
    if draw(st.booleans()):
        table["extra"]["outstanding_late_mail"] = [
            draw(st.sampled_from(["", "0", "1200", "331000", "12.5"])) for _ in range(n)
        ]
    if draw(st.booleans()):
        table["extra"]["note"] = [draw(st.text(max_size=10)) for _ in range(n)]
    return table


def _rows(table: dict) -> tuple[list[str], list[list[str]]]:
    header = ["batch_type", *table["names"], *table["extra"]]
    rows = []
    for i, t in enumerate(table["types"]):
        rows.append([t, *[str(v) for v in table["votes"][i]], *[col[i] for col in table["extra"].values()]])
    return header, rows


def _to_csv(
    header: list[str],
    rows: list[list[str]],
    *,
    crlf: bool = False,
    bom: bool = False,
    blank_after: tuple[int, ...] = (),
) -> str:
    end = "\r\n" if crlf else "\n"

    def line(fields: list[str]) -> str:
        # csv.writer quotes only the characters of its own line terminator: write with \r\n so a
        # field holding \r or \n is always quoted, then end the line as asked
        one = io.StringIO()
        csv.writer(one, lineterminator="\r\n").writerow(fields)
        return one.getvalue()[:-2] + end

    out = [line(header)]
    for i, r in enumerate(rows):
        out.append(line(r))
        if i in blank_after:
            out.append(end)
    return ("\ufeff" if bom else "") + "".join(out)


def _read(text_or_bytes: str | bytes, name: str = "fuzz.csv") -> Count | CountFormatError:
    """Read, returning the count or the CountFormatError; anything else propagates and fails the test."""
    buf = io.BytesIO(text_or_bytes) if isinstance(text_or_bytes, bytes) else io.StringIO(text_or_bytes)
    _FED["read_count"] += 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out: Count | CountFormatError = racecast.read_count(buf, name=name)
        except CountFormatError as err:
            out = err
    stray = [w for w in caught if not issubclass(w.category, RacecastWarning)]
    assert not stray, f"non-racecast warnings leaked: {[str(w.message) for w in stray]}"
    return out


def _check_count(count: Count) -> None:
    """What every Count must be, however it was read."""
    n, k = count.votes.shape
    assert n == len(count) >= 1
    assert k == len(count.candidates) >= 2
    assert count.votes.dtype == np.int64
    assert (count.votes >= 0).all()
    assert (count.votes <= _LIMIT).all()
    assert len(set(count.candidates)) == k
    assert all(c == c.strip() and c for c in count.candidates)
    assert len(count.release_batch_types) == n
    assert all(_SNAKE.fullmatch(t) for t in count.release_batch_types)
    out = count.outstanding.to_numpy(dtype=float)
    assert ((out[np.isfinite(out)] >= 0) & (out[np.isfinite(out)] <= _LIMIT)).all()
    assert not np.isinf(out).any()
    assert not np.isinf(count.ballots_counted).any()
    assert (np.diff(count.release_ids) > 0).all()


def _check_error(err: CountFormatError, text: str, name: str = "fuzz.csv") -> None:
    """What every CountFormatError must carry: source, and a row/column that exist in the input."""
    assert isinstance(err, ValueError)
    assert isinstance(err, racecast.RacecastError)
    assert err.source == name
    assert str(err).startswith(name)
    assert len(err.reason) >= 15, f"message too terse to act on: {err.reason!r}"
    n_lines = text.count("\n") + text.count("\r") + 1
    assert err.row is None or 1 <= err.row <= n_lines, (err.row, n_lines)
    if err.column is not None:
        assert err.column == "batch_type" or err.column in _csv_fields(text), err.column


def _csv_fields(text: str) -> set[str]:
    """Every field of the text as a CSV parser sees it (stripped)."""
    fields: set[str] = set()
    try:
        for record in csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")):
            fields.update(f.strip() for f in record)
    except csv.Error:
        pass
    return fields


# ---------------------------------------------------------------------------
# read_count
# ---------------------------------------------------------------------------
@_feeds(VALID_CSV_CASES, "read_count")
@given(valid_tables(), st.booleans(), st.booleans(), st.sets(st.integers(0, 5), max_size=3))
def test_a_valid_table_reads_back_exactly_whatever_the_line_endings_bom_and_blank_lines(
    table, crlf, bom, blanks
):
    header, rows = _rows(table)
    text = _to_csv(header, rows, crlf=crlf, bom=bom, blank_after=tuple(blanks))
    count = _read(text)
    assert isinstance(count, Count), count
    _check_count(count)
    assert count.candidates == tuple(table["names"])
    assert np.array_equal(count.votes, table["votes"])
    assert count.release_batch_types == tuple(table["types"])
    if "release" in table["extra"]:
        assert count.release_ids.tolist() == [int(r) for r in table["extra"]["release"]]
    if "outstanding_late_mail" in table["extra"]:
        expected = [float(v) if v else np.nan for v in table["extra"]["outstanding_late_mail"]]
        assert np.array_equal(count.outstanding["late_mail"].to_numpy(), expected, equal_nan=True)


@st.composite
def mutated_csv(draw: st.DrawFn) -> str:
    table = draw(valid_tables())
    header, rows = _rows(table)
    rows = [list(r) for r in rows]
    for _ in range(draw(st.integers(1, 3))):
        op = draw(
            st.sampled_from(
                [
                    "cell",
                    "cell",
                    "cell",
                    "header",
                    "drop_col",
                    "dup_col",
                    "drop_row",
                    "dup_row",
                    "add_field",
                    "cut_field",
                    "no_rows",
                ]
            )
        )
        width = len(header)
        if op == "cell" and rows:
            i, j = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, len(rows[0]) - 1))
            if j < len(rows[i]):
                rows[i][j] = draw(_text_cell())
        elif op == "header":
            header[draw(st.integers(0, width - 1))] = draw(
                st.one_of(st.sampled_from(JUNK_HEADERS), st.text(max_size=6))
            )
        elif op == "drop_col" and width > 1:
            j = draw(st.integers(0, width - 1))
            header.pop(j)
            rows = [r[:j] + r[j + 1 :] for r in rows]
        elif op == "dup_col":
            j = draw(st.integers(0, width - 1))
            header.append(header[j])
            rows = [[*r, r[j] if j < len(r) else ""] for r in rows]
        elif op == "drop_row" and rows:
            rows.pop(draw(st.integers(0, len(rows) - 1)))
        elif op == "dup_row" and rows:
            i = draw(st.integers(0, len(rows) - 1))
            rows.insert(i, list(rows[i]))
        elif op == "add_field" and rows:
            rows[draw(st.integers(0, len(rows) - 1))].append(draw(_text_cell()))
        elif op == "cut_field" and rows:
            i = draw(st.integers(0, len(rows) - 1))
            rows[i] = rows[i][:-1]
        elif op == "no_rows":
            rows = []
    text = _to_csv(header, rows, crlf=draw(st.booleans()), bom=draw(st.booleans()))
    raw_op = draw(
        st.sampled_from(["none", "none", "semicolon", "tab", "truncate", "junk_line", "char", "quote"])
    )
    if raw_op == "semicolon":
        text = text.replace(",", ";")
    elif raw_op == "tab":
        text = text.replace(",", "\t")
    elif raw_op == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif raw_op == "junk_line":
        lines = text.split("\n")
        lines.insert(draw(st.integers(0, len(lines))), draw(st.text(max_size=20)))
        text = "\n".join(lines)
    elif raw_op == "char" and text:
        pos = draw(st.integers(0, len(text) - 1))
        text = text[:pos] + draw(st.characters()) + text[pos + 1 :]
    elif raw_op == "quote" and text:
        pos = draw(st.integers(0, len(text)))
        text = text[:pos] + '"' + text[pos:]
    return text


@_feeds(MUTATED_CSV_FUZZ, "read_count")
@given(mutated_csv())
def test_a_mangled_csv_is_read_exactly_or_refused_with_file_row_and_column(text):
    out = _read(text)
    if isinstance(out, CountFormatError):
        _check_error(out, text)
    else:
        _check_count(out)


@st.composite
def one_bad_cell(draw: st.DrawFn) -> tuple[dict, int, str, str]:
    table = draw(valid_tables())
    i = draw(st.integers(0, len(table["types"]) - 1))
    kinds = ["votes", "batch_type"] + (["outstanding"] if "outstanding_late_mail" in table["extra"] else [])
    kind = draw(st.sampled_from(kinds))
    token = draw(
        st.one_of(_text_cell(), st.integers(0, 10**11).map(str), st.sampled_from([*TYPES, "Late Mail"]))
    )
    return table, i, kind, token


@_feeds(CELL_ORACLE_FUZZ, "read_count")
@given(one_bad_cell(), st.data())
def test_a_cell_is_accepted_exactly_when_the_documented_grammar_accepts_it(case, data):
    table, i, kind, token = case
    if "\r" in token or "\n" in token or "\x00" in token:
        token = token.replace("\r", "").replace("\n", "").replace("\x00", "")
    header, rows = _rows(table)
    if kind == "votes":
        j = data.draw(st.integers(1, len(table["names"])))
    elif kind == "batch_type":
        j = 0
    else:
        j = header.index("outstanding_late_mail")
    rows[i][j] = token
    text = _to_csv(header, rows)
    out = _read(text)
    s = token.strip()
    if kind == "votes":
        ok = s != "" and _ACCEPTED_WHOLE.fullmatch(s) is not None and int(s.split(".")[0]) <= _LIMIT
    elif kind == "batch_type":
        ok = _SNAKE.fullmatch(s) is not None
    else:
        ok = s == "" or (_ACCEPTED_DECIMAL.fullmatch(s) is not None and float(s) <= _LIMIT)
    if ok:
        assert isinstance(out, Count), f"{token!r} should be accepted in {kind}: {out}"
        if kind == "votes":
            assert out.votes[i, j - 1] == int(s.split(".")[0])
        elif kind == "batch_type":
            assert out.release_batch_types[i] == s
        else:
            got = out.outstanding["late_mail"].iloc[i]
            assert (np.isnan(got) and s == "") or got == float(s)
    else:
        assert isinstance(out, CountFormatError), f"{token!r} should be refused in {kind}"
        _check_error(out, text)
        breaks = sum(len(re.findall(r"\r\n|\r|\n", f)) for r in rows[:i] for f in r)  # multi-line notes
        assert out.row == i + 2 + breaks, "the row is the physical line where the release starts"
        assert out.column == header[j].strip()
        assert repr(token) in out.reason or repr(s) in out.reason or s == "", (
            "the message quotes the bad value"
        )


@_feeds(RAW_TEXT_FUZZ, "read_count")
@given(
    st.one_of(
        st.text(max_size=200),
        st.lists(st.lists(_text_cell(), max_size=5), max_size=5).map(
            lambda rows: "\n".join(",".join(r) for r in [["batch_type", "A", "B"], *rows])
        ),
    )
)
def test_arbitrary_text_never_crashes_the_reader(text):
    out = _read(text)
    if isinstance(out, CountFormatError):
        _check_error(out, text)
    else:
        _check_count(out)


@_feeds(RAW_BYTES_FUZZ, "read_count")
@given(
    st.one_of(
        st.binary(max_size=200),
        st.sampled_from(["batch_type,Zoë,B\nearly_mail,1,2\n"]).flatmap(
            lambda t: st.sampled_from(
                [t.encode("utf-16"), t.encode("latin-1"), t.encode("utf-8-sig"), t.encode("cp1252")]
            )
        ),
    )
)
def test_arbitrary_bytes_are_read_as_utf8_or_refused(raw):
    out = _read(raw)
    if isinstance(out, CountFormatError):
        assert out.source == "fuzz.csv"
    else:
        _check_count(out)
        raw.decode("utf-8-sig")  # a count was only produced from valid UTF-8


# ---------------------------------------------------------------------------
# Count.from_frame
# ---------------------------------------------------------------------------
ODD_VALUES = [
    None,
    np.nan,
    pd.NA,
    pd.NaT,
    float("inf"),
    -float("inf"),
    -1,
    1.5,
    2**70,
    1e20,
    "12",
    "1,234",
    " 7 ",
    True,
    b"12",
    np.int64(5),
    np.float64(7.0),
    np.float32(3.0),
    Decimal(3),
    Decimal("NaN"),
    [1],
    "",
    "late mail",
    "early_mail",
    "Zoë",
    0,
    12.0,
    pd.Timestamp("2024-11-05", tz="UTC"),
    np.uint64(2**63),
]


@st.composite
def odd_frames(draw: st.DrawFn) -> tuple[pd.DataFrame, object]:
    table = draw(valid_tables())
    names, votes, types = table["names"], table["votes"], table["types"]
    recs = []
    for i, t in enumerate(types):
        for j, c in enumerate(names):
            recs.append({"release": i + 1, "batch_type": t, "candidate": c, "votes": int(votes[i, j])})
    df = pd.DataFrame(recs).astype(object)
    if draw(st.booleans()):
        times = [pd.Timestamp("2024-11-05T10:00Z") + pd.Timedelta(hours=int(r)) for r in df["release"]]
        df["released_at"] = pd.Series(times, dtype=object)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(
            st.sampled_from(
                ["cell", "cell", "cell", "drop_row", "dup_row", "drop_col", "dup_col", "rename", "shuffle"]
            )
        )
        if op == "cell":
            # by position: after "dup_col" a name may stand for two columns, and a value may be a list
            j = draw(st.integers(0, df.shape[1] - 1))
            cells = df.iloc[:, j].tolist()
            cells[draw(st.integers(0, len(df) - 1))] = draw(st.sampled_from(ODD_VALUES))
            df.isetitem(j, pd.Series(cells, dtype=object))
        elif op == "drop_row" and len(df) > 1:
            df = df.drop(index=df.index[draw(st.integers(0, len(df) - 1))]).reset_index(drop=True)
        elif op == "dup_row":
            df = pd.concat([df, df.iloc[[draw(st.integers(0, len(df) - 1))]]], ignore_index=True)
        elif op == "dup_col":
            df = pd.concat([df, df[[draw(st.sampled_from(list(df.columns)))]]], axis=1)
        elif op == "drop_col":
            df = df.drop(columns=[draw(st.sampled_from(list(df.columns)))])
        elif op == "rename":
            df = df.rename(
                columns={draw(st.sampled_from(list(df.columns))): draw(st.sampled_from(JUNK_HEADERS))}
            )
        elif op == "shuffle":
            df = df.sample(frac=1.0, random_state=draw(st.integers(0, 100))).reset_index(drop=True)
    outstanding = draw(
        st.one_of(
            st.none(),
            st.dictionaries(
                st.sampled_from([*TYPES, "Late Mail", ""]),
                st.sampled_from([*ODD_VALUES, 100, 2500.5]),
                max_size=2,
            ),
        )
    )
    return df, outstanding


@_feeds(FRAME_FUZZ, "from_frame")
@given(odd_frames())
def test_an_odd_frame_becomes_a_count_or_an_error_pointing_at_its_row_and_column(case):
    df, outstanding = case
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _FED["from_frame"] += 1
        try:
            out: Count | CountFormatError = Count.from_frame(df, outstanding=outstanding, name="frame")
        except CountFormatError as err:
            out = err
    assert not [w for w in caught if not issubclass(w.category, RacecastWarning)]
    if isinstance(out, Count):
        _check_count(out)
        tidy = df.assign(
            release=df["release"].map(str), candidate=df["candidate"].map(lambda c: str(c).strip())
        )
        for (r, c), v in tidy.set_index(["release", "candidate"])["votes"].items():
            i = int(np.flatnonzero(out.release_ids == int(float(r)))[0])
            assert out.votes[i, out.candidates.index(c)] == int(float(str(v).strip()))
    else:
        assert out.source == "frame"
        assert len(out.reason) >= 15
        assert out.row is None or 1 <= out.row <= len(df) + 1
        named = set(df.columns) | {"release", "batch_type", "candidate", "votes"}
        assert out.column is None or out.column in named or out.column.startswith("outstanding_")


@_feeds(ROUND_TRIP_CASES, "read_count", "from_frame")
@given(valid_tables())
def test_a_tidy_frame_and_the_same_csv_give_the_same_count(table):
    header, rows = _rows({**table, "extra": {}})
    from_csv = _read(_to_csv(header, rows))
    recs = [
        {"release": i + 1, "batch_type": t, "candidate": c, "votes": int(table["votes"][i, j])}
        for i, t in enumerate(table["types"])
        for j, c in enumerate(table["names"])
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.CorrectionWarning)
        _FED["from_frame"] += 1
        from_frame = Count.from_frame(pd.DataFrame(recs))
    assert isinstance(from_csv, Count)
    assert from_frame.candidates == from_csv.candidates
    assert np.array_equal(from_frame.votes, from_csv.votes)
    assert from_frame.release_batch_types == from_csv.release_batch_types


def test_the_fuzz_budget_is_at_least_a_thousand_inputs_per_reader():
    # each test above fails if its reader was given fewer inputs than it promises; here the promises
    # of the tests that exist add up to at least 1,000 per reader
    assert set(_BUDGET) == {"read_count", "from_frame"}
    assert min(_BUDGET.values()) >= 1000, dict(_BUDGET)


@pytest.mark.parametrize("token", ["١٢٣", "１２", "+4", "1e5", "1,234", "nan", "-3", "1.5", str(_LIMIT + 1)])
def test_the_oracle_refuses_what_the_docs_say_is_refused(token):
    # guards the oracle itself: these are the documented refusals
    s = token.strip()
    assert not (_ACCEPTED_WHOLE.fullmatch(s) and int(s.split(".")[0]) <= _LIMIT)
