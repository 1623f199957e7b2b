"""The Python examples in docs/*.md run and print what the pages say they print.

Each page's ```python blocks run in order in one namespace (as a reader would
run them, and as markdown-exec runs them when the site is built), from the
repository root.  A block preceded by ``<!-- needs: nyt2020 -->`` needs the
NYT 2020 feed in ../shared/data/nyt2020 and is skipped without it.

A block followed by an output block, ```` ```text title="Output" ````, documents
what it prints: the test compares the block's stdout with it line by line
(trailing spaces and surrounding blank lines aside).  The numbers are compared as
printed, so the code states the rounding (``f"{p:.3f}"``, ``round(x, 2)``) and a
documented number must equal the computed one to the last digit shown.  Timings
are not documented this way (they are noisy): docs/performance.md reports the
results of ``benchmarks/run.py``, and a test checks that its table is the one in
``docs/performance_results.json``.  Blocks that markdown-exec runs
(``exec="on"``) show their output on the built site, computed when it is built.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import re
import sys
import types
from pathlib import Path

import pytest

import racecast

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
NYT_FILE = REPO.parent / "shared" / "data" / "nyt2020" / "battleground-state-changes.csv"

#: Pages whose examples fit the NUTS engine (tens of seconds): slow tests.
SLOW_PAGES = {"getting-started.md", "performance.md"}

_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<info>[^\n`]*)$")
_OUTPUT_INFO = re.compile(r'^text\b.*\btitle="Output"')


def _fences(text: str) -> list[tuple[int, int, str, str]]:
    """``(first body line, closing line, info, body)`` of every fenced block (1-based lines)."""
    fences = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        info, indent = m.group("info").strip(), m.group("indent")
        start, body = i + 1, []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i].removeprefix(indent))
            i += 1
        fences.append((start + 1, i + 1, info, "\n".join(body) + "\n"))
        i += 1
    return fences


def python_blocks(text: str) -> list[tuple[int, str, set[str]]]:
    """``(line, code, needs)`` of every ```python block of a markdown page."""
    lines = text.splitlines()
    blocks = []
    for start, _, info, code in _fences(text):
        if (info.split() or [""])[0] == "python":
            before = lines[start - 3].strip() if start >= 3 else ""
            needs = set(re.findall(r"<!-- needs: (\w+) -->", before))
            blocks.append((start, code, needs))
    return blocks


def documented_outputs(text: str) -> dict[int, str]:
    """The documented output of each ```python block (keyed by its line) that an Output block follows."""
    lines = text.splitlines()
    fences = _fences(text)
    outputs = {}
    for (start, end, info, _), (next_start, _, next_info, body) in itertools.pairwise(fences):
        between = lines[end : next_start - 2]
        is_python = (info.split() or [""])[0] == "python"
        if is_python and _OUTPUT_INFO.match(next_info) and not any(t.strip() for t in between):
            outputs[start] = body
    return outputs


def _normalised(out: str) -> list[str]:
    return [line.rstrip() for line in out.strip("\n").splitlines()]


def output_mismatch(page: str, line: int, printed: str, documented: str) -> str | None:
    """What differs between a block's stdout and its documented output, or None."""
    got, want = _normalised(printed), _normalised(documented)
    if got == want:
        return None
    diff = "\n".join(
        f"  documented: {w!r}\n  printed:    {g!r}" for w, g in zip(want, got, strict=False) if w != g
    )
    if len(got) != len(want):
        diff += f"\n  {len(want)} lines documented, {len(got)} printed"
    return f"{page}, block at line {line}: the documented output is not what it prints\n{diff}"


def _pages() -> list:
    """Every docs page that has Python examples (pages of prose and console blocks have none to run)."""
    params = []
    for page in sorted(DOCS.glob("*.md")):
        if not python_blocks(page.read_text()):
            continue
        marks = [pytest.mark.slow] if page.name in SLOW_PAGES else []
        params.append(pytest.param(page, id=page.name, marks=marks))
    return params


def test_every_page_has_been_found():
    names = {p.name for p in DOCS.glob("*.md")}
    assert {"index.md", "getting-started.md", "cli.md", "feeds.md", "rules.md", "api.md"} <= names


def test_the_pages_a_reader_runs_have_python_examples():
    ran = {p.values[0].name for p in _pages()}
    assert {"index.md", "getting-started.md", "rules.md", "performance.md"} <= ran


def test_documented_outputs_are_read_from_the_output_block_after_a_python_block():
    page = (
        '```python\nprint(1)\n```\n\n```text title="Output"\n1\n```\n'
        '```python\nx = 2\n```\nprose\n```text title="Output"\nnot x\'s\n```\n'
        "```python\nprint(3)\n```\n```text\nplain text, not an output\n```\n"
    )
    assert documented_outputs(page) == {2: "1\n"}


def test_an_output_that_drifts_from_what_the_block_prints_is_reported():
    assert output_mismatch("p.md", 3, "P(Bass) = 0.838\n\n", "P(Bass) = 0.838  \n") is None
    problem = output_mismatch("p.md", 3, "P(Bass) = 0.838\n", "P(Bass) = 0.97\n")
    assert "p.md, block at line 3" in problem
    assert "0.97" in problem


def test_the_home_page_documents_the_output_of_its_example():
    assert documented_outputs((DOCS / "index.md").read_text())


def test_block_extraction_reads_fences_and_markers():
    page = (
        "text\n```python\nx = 1\n```\n<!-- needs: nyt2020 -->\n"
        '```python exec="on" session="s"\ny = x + 1\n```\n```console\n$ racecast\n```\n'
    )
    blocks = python_blocks(page)
    assert [(code, needs) for _, code, needs in blocks] == [("x = 1\n", set()), ("y = x + 1\n", {"nyt2020"})]


# The docs show NUTS diagnostics as they are; sampler quality is tested with the model.
@pytest.mark.filterwarnings("default::racecast.errors.SamplerWarning")
@pytest.mark.parametrize("page", _pages())
def test_python_examples_in_the_docs_run(page: Path, monkeypatch):
    blocks = python_blocks(page.read_text())
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    module = types.ModuleType(f"docs_{page.stem.replace('-', '_')}")  # a real module, as dataclasses need
    monkeypatch.setitem(sys.modules, module.__name__, module)
    namespace = module.__dict__
    skipped = []
    outputs = documented_outputs(page.read_text())
    problems = []
    for line, code, needs in blocks:
        if "nyt2020" in needs and not NYT_FILE.is_file():
            skipped.append(line)
            continue
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                exec(compile(code, f"{page.name}:{line}", "exec"), namespace)  # running the docs is the test
        except Exception as exc:  # any failure of a docs example fails the test
            pytest.fail(f"{page.name}, block at line {line} failed: {type(exc).__name__}: {exc}")
        if line in outputs:
            problems.append(output_mismatch(page.name, line, printed.getvalue(), outputs[line]))
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems)
    if skipped:
        pytest.skip(
            f"{page.name}: blocks at lines {skipped} need the NYT 2020 feed at {NYT_FILE} "
            "(battleground-state-changes.csv in ../shared/data/nyt2020 next to the repository)"
        )


# --------------------------------------------------------------------------- numbers in prose
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _agrees(documented: str, measured: str) -> bool:
    """A documented number equals the measured one rounded to the digits it shows.

    ``276`` ms agrees with 276.2 ms, ``1,600``x with 1,603x (trailing zeros of an
    integer are not significant), ``13.0`` s with 12.95 s.
    """
    d = documented.replace(",", "")
    m = float(measured.replace(",", ""))
    decimals = len(d.split(".")[1]) if "." in d else -(len(d) - len(d.rstrip("0")))
    unit = 10.0**-decimals
    return abs(float(d) - m) <= unit / 2 + 1e-9


def test_number_agreement_rounds_to_the_digits_shown():
    assert _agrees("276", "276.2")
    assert _agrees("1,600", "1,603")
    assert _agrees("13.0", "12.95")
    assert not _agrees("7", "9.9")
    assert not _agrees("0.97", "0.964")


def test_the_performance_table_is_the_benchmarks_recorded_result():
    """docs/performance.md's table is what ``benchmarks/run.py --json`` wrote, rounded as shown."""
    page = (DOCS / "performance.md").read_text()
    recorded = json.loads((DOCS / "performance_results.json").read_text())
    rows = [line for line in page.splitlines() if line.startswith("| ") and not line.startswith("| target")]
    assert len(rows) == len(recorded["rows"])
    for line, rec in zip(rows, recorded["rows"], strict=True):
        cells = [c.strip() for c in line.strip("|").split("|")]
        # columns: target, goal, racecast (median wall), CPU, naive PyMC, ratio
        for doc_cell, key in zip(cells[2:], ("value", "cpu", "baseline", "ratio"), strict=True):
            documented, measured = _NUMBER.findall(doc_cell), _NUMBER.findall(rec[key])
            assert len(documented) == len(measured), (rec["target"], key, doc_cell, rec[key])
            for d, m in zip(documented, measured, strict=True):
                assert _agrees(d, m), (rec["target"], key, doc_cell, rec[key])
    for name, key in (
        ("Python", "python"),
        ("numpy", "numpy"),
        ("pandas", "pandas"),
        ("PyMC", "pymc"),
        ("nutpie", "nutpie"),
        ("numba", "numba"),
        ("ArviZ", "arviz"),
    ):
        assert f"{name} {recorded['machine'][key]}" in page, name


def test_getting_started_prose_quotes_the_bundled_count():
    page = (DOCS / "getting-started.md").read_text()
    count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    r = count.releases
    facts = {
        "985,000 late mail ballots": r.loc[3, "outstanding_late_mail"],
        "21,300 provisional ballots": r.loc[3, "outstanding_provisional"],
        "Caruso\nstill led by 2,695 votes": r.loc[4, "Rick Caruso"] - r.loc[4, "Karen Bass"],
        "134,099 late mail ballots": count.batches().loc[3, "ballots"],
        "862,000 more are waiting": r.loc[4, "outstanding_late_mail"],
    }
    for phrase, value in facts.items():
        assert phrase in page, phrase
        assert f"{int(value):,}" in phrase, (phrase, value)


def test_the_term_evidence_table_is_the_benchmarks_recorded_result():
    """docs/model.md's term-evidence table is what ``benchmarks/term_evidence.py`` wrote."""
    page = (DOCS / "model.md").read_text()
    recorded = json.loads((DOCS / "term_evidence.json").read_text())["rows"]
    start = page.index("<!-- table: term_evidence -->")
    rows = [line for line in page[start:].splitlines()[3:] if line.startswith("| ")]
    rows = rows[: len(recorded)]
    for line, rec in zip(rows, recorded, strict=True):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[0] == rec["change"]
        assert _agrees(cells[3], f"{rec['coverage']}"), (rec["change"], cells[3])
        assert _agrees(cells[6], f"{rec['brier']}"), (rec["change"], cells[6])
        if "difference" in rec:
            shown, sd = _NUMBER.findall(cells[1].replace("+", ""))
            assert _agrees(shown.lstrip("-"), f"{abs(rec['difference'])}"), rec["change"]
            assert (rec["difference"] < 0) == cells[1].startswith("-")
            assert _agrees(sd, f"{rec['bootstrap_sd']}"), rec["change"]
    # the conclusions the prose draws: the terms shipped off cost log score, beyond their noise
    off = [r for r in recorded if r["term"] in {"revision_abs", "remainder_sd", "wander_sd"}]
    assert len(off) == 5
    assert all(r["difference"] < -2 * r["bootstrap_sd"] for r in off)


def _table_rows(page: str, name: str, n: int) -> list[list[str]]:
    start = page.index(f"<!-- table: {name} -->")
    rows = [line for line in page[start:].splitlines()[3:] if line.startswith("| ")][:n]
    return [[c.strip() for c in line.strip("|").split("|")] for line in rows]


def test_the_batch_size_tables_are_the_benchmarks_recorded_result():
    """docs/model.md's batch-size tables are what ``benchmarks/batch_size_place.py`` wrote."""
    page = (DOCS / "model.md").read_text()
    record = json.loads((DOCS / "batch_size_place.json").read_text())
    for cells, rec in zip(
        _table_rows(page, "batch_size", len(record["scatter"])), record["scatter"], strict=True
    ):
        assert cells[0] == rec["state"]
        assert _agrees(_NUMBER.findall(cells[4])[0], f"{rec['ratio_vs_state']}"), cells
        assert _agrees(_NUMBER.findall(cells[6])[0], f"{rec['ratio_within']}"), cells
    replays = record["replays"]
    for cells, rec in zip(_table_rows(page, "batch_size_replay", len(replays)), replays, strict=True):
        assert cells[0] == rec["variant"]
        assert _agrees(cells[1], f"{rec['nyt']['coverage']}"), cells
        assert cells[3] == str(rec["nyt"]["wrong_calls"])
        assert _agrees(cells[4], f"{rec['nyt']['brier']}"), cells
    # what the prose concludes: size weighting over the whole type makes confident wrong calls,
    # within a place it makes none and sharpens the forecasts
    shipped = next(r for r in replays if r["floor"] == 1.0)
    assert shipped["nyt"]["wrong_calls"] == 0
    whole_type = [r for r in replays if r["reference"] == "size" and r["floor"] < 1.0]
    within = [r for r in replays if r["reference"] == "place"]
    assert whole_type
    assert within
    assert all(r["nyt"]["wrong_calls"] > 0 for r in whole_type)
    assert all(r["nyt"]["wrong_calls"] == 0 for r in within)
    assert all(r["nyt"]["brier"] < shipped["nyt"]["brier"] for r in within)
    # across counties (statewide snapshots apart): no wrong call, sharper still, intervals too narrow
    across = [r for r in replays if r["reference"] == "placed"]
    assert across
    assert all(r["nyt"]["wrong_calls"] == 0 for r in across)
    assert all(r["nyt"]["brier"] < min(w["nyt"]["brier"] for w in within) for r in across)
    assert all(r["nyt"]["coverage"] < 0.85 for r in across)
    # most of the scatter is place: within the county the small and middle thirds scatter less
    # than against the state; some is size: within the county the small third scatters more
    # than the large (its 90% interval above 1) in at least three of the four states
    thirds = ("small", "middle")
    assert all(r[f"within_{t}"] < r[f"vs_state_{t}"] for r in record["scatter"] for t in thirds)
    assert sum(r["ratio_within_90"][0] > 1.0 for r in record["scatter"]) >= 3


def test_the_batch_size_floor_is_not_shipped_for_the_reasons_the_record_gives():
    """docs/model.md: learned at 0.1 on everything, but held out the log score falls in three states."""
    from racecast.learned_scales import SCALES_GRID

    tried = json.loads((DOCS / "priors-batch-size.json").read_text())
    shipped = json.loads((DOCS / "priors-learned.json").read_text())
    assert tried["learned"]["batch_size_floor"] == 0.1
    assert racecast.Priors().batch_size_floor == 1.0
    assert SCALES_GRID["batch_size_floor"] == (1.0,)

    def held_out(record: dict) -> dict[str, float]:
        rows = record["leave_one_out"]["scores"]
        return {r["held out"]: r["log_score"] for r in rows if r["priors"] == "learned"}

    new, old = held_out(tried), held_out(shipped)
    worse = [
        s
        for s in ("Nevada", "North Carolina", "Pennsylvania")
        if new[f"NYT 2020: {s}"] < old[f"NYT 2020: {s}"]
    ]
    assert len(worse) == 3
    assert new["NYT 2020: Arizona"] > old["NYT 2020: Arizona"]
    assert tried["leave_one_out"]["folds"]["NYT 2020: Georgia"]["batch_size_floor"] == 1.0
