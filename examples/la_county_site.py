"""The report site of the bundled LA County 2022 ballot as it stood on the night of Nov 10.

Forecasts every contest of the ballot after release 1 (election night) and release 2
(Nov 10, 16:23 PST), writes the static report site (open ``index.html`` in a browser,
no network needed) and, when Debian's Chromium and Playwright are installed, takes
screenshots of the index and of the LA mayor's page at desktop and phone widths.

    python examples/la_county_site.py --out la_county_site --images docs/images
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import racecast
from racecast.site import write_site

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MAYOR = "LOS ANGELES CITY GENERAL MUNICIPAL ELECTION Mayor"
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


def build(out: Path, as_of: int = 2, seed: int = 1) -> Path:
    """Forecast releases 1..``as_of`` (90% and 50% intervals) and write the site; returns index.html."""
    ballot = racecast.read_ballot(racecast.example_path("la_county_2022"))
    forecasts, inner = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)  # types not counted yet, stale estimates
        for k in range(1, as_of + 1):
            kw = {"as_of": k, "seed": seed, "engine": "fast", "processes": 1, "progress": False}
            forecasts[k] = racecast.forecast_ballot(ballot, **kw)
            inner[k] = racecast.forecast_ballot(ballot, interval=0.5, **kw)
    return write_site(ballot.as_of(as_of), forecasts, out, inner=inner, timezone="America/Los_Angeles")


def screenshots(index: Path, images: Path) -> list[Path]:
    """PNGs of the index and the mayor's page at desktop and phone widths (needs Chromium and Playwright)."""
    from playwright.sync_api import sync_playwright

    from racecast.site.contest import contest_file

    images.mkdir(parents=True, exist_ok=True)
    pages = {"index": index, "contest": index.parent / contest_file(MAYOR)}
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for size, (width, height) in SIZES.items():
            tab = browser.new_page(viewport={"width": width, "height": height})
            for name, path in pages.items():
                tab.goto(path.resolve().as_uri())
                if name == "contest":
                    tab.wait_for_selector("#chart-votes svg")
                shot = images / f"live_report_{name}_{size}.png"
                tab.screenshot(path=str(shot), full_page=(name, size) != ("index", "phone"))
                written.append(shot)
            tab.close()
        browser.close()
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("la_county_site"), help="folder of the site")
    parser.add_argument("--images", type=Path, default=None, help="folder for screenshots (default: none)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    index = build(args.out)
    print(f"site written to {index} in {time.perf_counter() - start:.1f} s")
    if args.images is not None:
        if CHROMIUM.exists():
            for shot in screenshots(index, args.images):
                print(f"screenshot {shot}")
        else:
            print(f"no screenshots: {CHROMIUM} is not installed (apt-get install chromium)")


if __name__ == "__main__":
    main()
