"""The API reference builds strictly, renders no raw Sphinx roles, and lists every public name.

mkdocstrings does not read Sphinx roles (``:class:`~racecast.Count```): they would
reach the reader as raw markup.  The site is built as CI builds it
(``mkdocs build --strict``) and the built HTML is read back.  Skipped where the
``docs`` extra is not installed.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import racecast

pytest.importorskip("mkdocs")
pytest.importorskip("mkdocstrings_handlers.python")

REPO = Path(__file__).resolve().parents[1]

#: Modules whose public names (their ``__all__``) the API page must show, besides ``racecast`` itself.
DOCUMENTED_MODULES = (
    "rules",
    "scoring",
    "baselines",
    "plot",
    "settings",
    "report",
    "outstanding",
    "provenance",
    "ballot",
    "ballot_forecast",
    "shared_scales",
)

_ROLE = re.compile(r":(class|meth|func|mod|attr|data):")
_ANCHOR = re.compile(r'id="(racecast[\w.]*)')
_MISSING = object()

pytestmark = pytest.mark.slow  # a full site build: about 20 s on 2 cores


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, f"mkdocs build --strict failed:\n{run.stdout}\n{run.stderr}"
    return out


def _module(name: str) -> ModuleType:
    """`racecast.<name>` as a reader reaches it: the package attribute, else the import."""
    obj = getattr(racecast, name, None)
    return obj if isinstance(obj, ModuleType) else importlib.import_module(f"racecast.{name}")


@cache
def _resolve(path: str) -> Any:
    """The object a dotted anchor names (a submodule before a same-named attribute), or `_MISSING`."""
    parts = path.split(".")
    obj: Any = importlib.import_module(parts[0])
    for part in parts[1:]:
        if isinstance(obj, ModuleType):
            try:
                obj = importlib.import_module(f"{obj.__name__}.{part}")
                continue
            except ImportError:
                pass
        obj = getattr(obj, part, _MISSING)
        if obj is _MISSING:
            return _MISSING
    return obj


def _public_names() -> list[tuple[str, str, Any]]:
    names = [("racecast", n, getattr(racecast, n)) for n in racecast.__all__]
    for mod_name in DOCUMENTED_MODULES:
        mod = _module(mod_name)
        names += [(f"racecast.{mod_name}", n, getattr(mod, n)) for n in mod.__all__]
    return names


def test_the_built_site_has_no_raw_sphinx_roles(site: Path) -> None:
    found = []
    for page in sorted(site.rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        for m in _ROLE.finditer(html):
            found.append(f"{page.relative_to(site)}: ...{html[max(0, m.start() - 60) : m.end() + 60]!r}...")
    assert not found, f"{len(found)} raw Sphinx role(s) in the built site:\n" + "\n".join(found[:50])


def test_every_public_name_is_on_the_api_page(site: Path) -> None:
    anchors = set(_ANCHOR.findall((site / "api" / "index.html").read_text(encoding="utf-8")))
    shown = [_resolve(a) for a in anchors]
    missing = [
        f"{module}.{name}"
        for module, name, obj in _public_names()
        if f"{module}.{name}" not in anchors and not any(s is obj for s in shown)
    ]
    assert not missing, f"public names missing from docs/api.md's built page: {missing}"
