"""Every ``Examples`` section of racecast's docstrings runs and prints what it says.

The API pages render these examples; a user copies them.  They run here with the
standard library's doctest (racecast's warnings about the example counts silenced).
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import warnings

import pytest

import racecast

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(racecast.__path__, "racecast.")
    if not m.name.startswith("racecast.cli") and m.name != "racecast.__main__"  # these run the CLI
)


@pytest.mark.parametrize("name", MODULES)
def test_the_docstring_examples_of_each_module_hold(name):
    module = importlib.import_module(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", racecast.RacecastWarning)
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, (
        f"{result.failed} of {result.attempted} examples of {name} failed (see the output)"
    )


def test_the_examples_are_found():
    finder = doctest.DocTestFinder()
    found = sum(len([t for t in finder.find(importlib.import_module(n)) if t.examples]) for n in MODULES)
    assert found >= 60, found
