"""The Python examples in docs/*.md run, so the documentation never rots.

Each page's ```python blocks run in order in one namespace (as a reader would
run them, and as markdown-exec runs them when the site is built), from the
repository root.  A block preceded by ``<!-- needs: nyt2020 -->`` needs the
NYT 2020 feed in ../shared/data/nyt2020 and is skipped without it.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
NYT_FILE = REPO.parent / "shared" / "data" / "nyt2020" / "battleground-state-changes.csv"

#: Pages whose examples fit the NUTS engine (tens of seconds): slow tests.
SLOW_PAGES = {"getting-started.md", "performance.md"}

_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<info>[^\n`]*)$")


def python_blocks(text: str) -> list[tuple[int, str, set[str]]]:
    """``(line, code, needs)`` of every ```python block of a markdown page."""
    blocks: list[tuple[int, str, set[str]]] = []
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
        i += 1
        lang = info.split()[0] if info else ""
        if lang == "python":
            before = lines[start - 2].strip() if start >= 2 else ""
            needs = set(re.findall(r"<!-- needs: (\w+) -->", before))
            blocks.append((start + 1, "\n".join(body) + "\n", needs))
    return blocks


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
    for line, code, needs in blocks:
        if "nyt2020" in needs and not NYT_FILE.is_file():
            skipped.append(line)
            continue
        try:
            exec(compile(code, f"{page.name}:{line}", "exec"), namespace)  # noqa: S102 - running the docs is the test
        except Exception as exc:  # noqa: BLE001 - any failure of a docs example fails the test
            pytest.fail(f"{page.name}, block at line {line} failed: {type(exc).__name__}: {exc}")
    if skipped:
        pytest.skip(
            f"{page.name}: blocks at lines {skipped} need the NYT 2020 feed at {NYT_FILE} "
            "(battleground-state-changes.csv in ../shared/data/nyt2020 next to the repository)"
        )
