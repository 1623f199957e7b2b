"""The report site: what write_site writes, and the pages in headless Chromium.

The browser tests drive Debian's Chromium (``/usr/bin/chromium``, installed by
``.ci/run``) with Playwright's Python package; they are skipped, with a message,
where either is missing.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import racecast
from racecast.errors import ForecastInputError
from racecast.site import published_timezone, write_site
from racecast.site.build import contest_slug, index_rows
from racecast.site.contest import contest_file

pytest.importorskip("altair")

REPO = Path(__file__).resolve().parents[1]


def _example_module():
    """examples/la_county_site.py: its Chromium and launch flags are the ones the screenshots use."""
    spec = importlib.util.spec_from_file_location("la_county_site", REPO / "examples" / "la_county_site.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_EXAMPLE = _example_module()
CHROMIUM: Path = _EXAMPLE.CHROMIUM
CHROMIUM_ARGS: list[str] = _EXAMPLE.CHROMIUM_ARGS
MAYOR: str = _EXAMPLE.MAYOR


def forecast(ballot: racecast.Ballot, k: int, **kw) -> racecast.BallotForecast:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        return racecast.forecast_ballot(
            ballot, as_of=k, seed=3, engine="fast", draws=500, processes=1, progress=False, **kw
        )


@pytest.fixture(scope="module")
def ballot() -> racecast.Ballot:
    return racecast.read_ballot(racecast.example_path("la_county_2022"))


@pytest.fixture(scope="module")
def forecasts(ballot):
    return {k: forecast(ballot, k) for k in (1, 2)}


@pytest.fixture(scope="module")
def site(ballot, forecasts, tmp_path_factory) -> Path:
    inner = {k: forecast(ballot, k, interval=0.5) for k in (1, 2)}
    out = tmp_path_factory.mktemp("site")
    return write_site(ballot.as_of(2), forecasts, out, inner=inner, timezone="America/Los_Angeles")


# ---------------------------------------------------------------------------
# the files
# ---------------------------------------------------------------------------
def test_site_has_an_index_a_page_per_contest_and_the_chart_scripts_once(site, ballot):
    root = site.parent
    pages = sorted(p.name for p in (root / "contests").glob("*.html"))
    assert pages == sorted(Path(contest_file(c)).name for c in ballot.contests)
    assert {"vega.min.js", "vega-lite.min.js", "vega-embed.min.js", "LICENSE-vega.txt"} <= {
        p.name for p in (root / "assets").iterdir()
    }
    page = (root / contest_file(MAYOR)).read_text()
    assert '<script src="../assets/vega.min.js"></script>' in page
    assert len(page) < 60_000  # the libraries are referenced, never inlined
    assert not list(root.rglob("*.tmp"))  # every write renamed its temporary file


def test_index_rows_carry_the_contest_name_and_come_closest_race_first(site, forecasts):
    html = site.read_text()
    names = re.findall(r'<tr data-contest="([^"]*)"', html)
    rows = index_rows(forecasts[2])
    assert names == [n.replace('"', "&quot;") for n in rows.index]
    rated = rows["probability"][rows["status"] != "uncontested"]
    assert rated.is_monotonic_increasing
    assert '<th scope="col" aria-sort="ascending">' in html
    assert "<caption" in html


def test_times_are_shown_in_the_jurisdictions_zone(site):
    assert "Nov 10 16:23 PST" in site.read_text()


def test_the_published_offset_is_read_back_from_the_ballot_files():
    tz = published_timezone(racecast.example_path("la_county_2022"))
    assert tz.utcoffset(None) == dt.timedelta(hours=-8)
    assert tz.tzname(None) == "UTC-08:00"


def test_contest_names_become_distinct_safe_file_names():
    a, b = contest_slug("Measure A/B <x>"), contest_slug("measure a b x")
    assert a != b
    assert re.fullmatch(r"[a-z0-9-]+", a)


def test_a_forecast_keyed_by_the_wrong_release_is_refused(ballot, forecasts, tmp_path):
    with pytest.raises(ForecastInputError, match="key it by that release"):
        write_site(ballot, {3: forecasts[2]}, tmp_path)
    with pytest.raises(ForecastInputError, match="at least one"):
        write_site(ballot, {}, tmp_path)


def test_an_unknown_time_zone_is_an_input_error(ballot, forecasts, tmp_path):
    with pytest.raises(ForecastInputError, match="IANA"):
        write_site(ballot, forecasts, tmp_path, timezone="Mars/Olympus")


def test_rewriting_the_site_replaces_its_pages(ballot, forecasts, tmp_path):
    write_site(ballot.as_of(1), {1: forecasts[1]}, tmp_path)
    index = write_site(ballot.as_of(2), forecasts, tmp_path)
    assert "forecast as of release 2" in index.read_text()


# ---------------------------------------------------------------------------
# in the browser
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium chromium-driver (as .ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extra)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def tab(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    yield page
    page.close()


def visible_contests(tab) -> list[str]:
    return tab.eval_on_selector_all(
        "#contests tbody tr", "rows => rows.filter(r => !r.hidden).map(r => r.dataset.contest)"
    )


def test_index_loads_offline_with_a_row_per_contest_and_no_errors(tab, site, ballot):
    tab.goto(site.as_uri())
    assert sorted(visible_contests(tab)) == sorted(ballot.contests)
    assert tab.errors == []


def test_sorting_by_a_column_reorders_the_rows(tab, site, forecasts):
    tab.goto(site.as_uri())
    votes = forecasts[2].contests["votes"]
    tab.click("button[data-key=votes]")
    assert visible_contests(tab) == list(votes.sort_values(kind="stable").index)
    assert tab.get_attribute("th:has(button[data-key=votes])", "aria-sort") == "ascending"
    tab.click("button[data-key=votes]")
    assert [votes[c] for c in visible_contests(tab)] == sorted(votes, reverse=True)
    assert tab.get_attribute("th:has(button[data-key=votes])", "aria-sort") == "descending"
    assert tab.get_attribute("th:has(button[data-key=probability])", "aria-sort") is None


def test_filtering_by_text_hides_the_rows_that_do_not_match(tab, site, ballot):
    tab.goto(site.as_uri())
    tab.fill("#filter", "culver city")
    shown = visible_contests(tab)
    assert len(shown) == 2
    assert all("CULVER CITY" in c for c in shown)
    assert tab.inner_text("#shown") == f"{len(shown)} of {len(ballot.contests)} contests shown"
    tab.fill("#filter", "")
    tab.select_option("#status-filter", "uncontested")
    assert set(visible_contests(tab)) == {
        "MEMBER OF THE STATE ASSEMBLY, 57th District",
        "SANTA MONICA CITY GENERAL MUNICIPAL ELECTION Member of the Rent Control Board",
    }


def test_a_contest_page_draws_its_charts(tab, site):
    tab.goto(site.as_uri())
    tab.click(f"tr[data-contest='{MAYOR}'] th a")
    for name in ("pwin", "fan", "votes"):
        tab.wait_for_selector(f"#chart-{name} svg, #chart-{name} canvas", timeout=15_000)
    assert "KAREN RUTH BASS" in tab.inner_text("#chart-pwin")
    assert tab.errors == []


def test_the_example_builds_the_site_and_its_screenshots(tmp_path):
    # in its own process: the module's browser already runs Playwright's event loop in this one
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "examples" / "la_county_site.py"),
            "--out",
            str(tmp_path / "site"),
            "--images",
            str(tmp_path / "images"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "site" / "index.html").is_file()
    if CHROMIUM.exists() and importlib.util.find_spec("playwright"):
        assert len(list((tmp_path / "images").glob("live_report_*.png"))) == 4


def test_a_contests_probabilities_show_as_percentages_that_add_up():
    from racecast.site.pages import fmt_ps

    assert fmt_ps([0.4995, 0.3335, 0.167]) == ["50.0%", "33.3%", "16.7%"]  # not 50.0 + 33.4 + 16.7
    assert fmt_ps([0.9996, 0.0004]) == [">99.9%", "<0.1%"]  # extremes stay honest
    assert fmt_ps([1.0, 0.0]) == ["100.0%", "0.0%"]


def test_the_index_says_how_the_forecast_was_made():
    from racecast.site.pages import how_made

    ballot = racecast.read_ballot(racecast.example_path("la_county_2022"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        plain = racecast.forecast_ballot(ballot, as_of=3, seed=1, draws=300, processes=1, progress=False)
        shared = racecast.forecast_ballot(
            ballot, as_of=3, seed=1, draws=300, processes=1, progress=False, shared_scales=True
        )
    assert how_made(plain).startswith("Engine fast, 300 draws per contest, seed 1; each contest's scales")
    learned = shared.settings["shared_scales"]
    assert f"learned across {learned['contests']} contests" in how_made(shared)
    assert f"turnout: type spread {learned['rate_type_sd']:.3g}" in how_made(shared)
    assert how_made(plain).endswith("from its own batches and the default priors.")
    assert "priors given" not in how_made(shared)  # the learned scales are named as learned, not as given


def test_the_index_names_the_priors_a_forecast_was_given():
    """``--priors FILE`` (or ``priors=``): the report must not say "the default priors"."""
    from racecast.site.pages import how_made

    ballot = racecast.read_ballot(racecast.example_path("la_county_2022"))
    kw = {"as_of": 3, "seed": 1, "draws": 300, "processes": 1, "progress": False}
    given = {"priors": racecast.Priors(wander_sd=0.3, revision_rel=None), "outstanding_sd": 0.3}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        alone = racecast.forecast_ballot(ballot, **kw, **given)
        shared = racecast.forecast_ballot(ballot, **kw, **given, shared_scales=True)
    assert how_made(alone).endswith(
        "from its own batches and the priors given (revision_rel off, wander_sd 0.3, outstanding_sd 0.3)."
    )
    assert (
        "; priors given (revision_rel off, wander_sd 0.3, outstanding_sd 0.3); the model's scales"
        in how_made(shared)
    )


def test_the_releases_table_shows_a_published_total_and_a_projection():
    """From 14 Nov LA County published only a total: the table must show it, not a blank."""
    import dataclasses

    import numpy as np

    from racecast.site.pages import releases_table

    ballot = racecast.read_ballot(racecast.example_path("la_county_2022"))
    at = {int(r): i for i, r in enumerate(ballot.release_ids)}
    html = releases_table(ballot.as_of(9), dt.UTC, [9])
    row9 = next(r for r in html.split("<tr>") if r.startswith('<th scope="row">9</th>'))
    assert "<td>outstanding total 175,050</td>" in row9  # release 9 published a total and no split
    expected = np.full(len(ballot.release_ids), np.nan)
    expected[at[1]] = 2_500_000
    projected = dataclasses.replace(ballot, expected_total=expected)
    row1 = next(
        r
        for r in releases_table(projected, dt.UTC, [1]).split("<tr>")
        if r.startswith('<th scope="row">1</th>')
    )
    assert "projected final total 2,500,000" in row1
    # the notebook view of any of its contests words both totals the same way
    notebook = projected.as_of(9).contest(projected.contests[0])._repr_html_()
    assert "outstanding total 175,050 at release 9" in notebook
    assert "projected final total 2,500,000 at release 1" in notebook
