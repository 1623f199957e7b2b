"""How a forecast was made: library versions and a fingerprint of the count it read.

Stored once in ``Forecast.settings`` and in the ``attrs`` of
[`Forecast.idata`][racecast.Forecast.idata] (and so in a saved
forecast), as pymc-marketing stamps its results: with the seed and the options
they say how to reproduce the forecast, and whether a count read later is the same.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import metadata

import numpy as np

from ._version import __version__
from .count import Count

__all__ = ["count_fingerprint", "versions"]

#: Distributions whose versions a forecast records.
_DISTRIBUTIONS = ("numpy", "pandas", "scipy", "pymc", "nutpie", "arviz", "numba")


@cache
def versions() -> dict[str, str | None]:
    """Versions of racecast and the libraries a forecast depends on (``None`` when not installed).

    Read from the installed distributions' metadata, so nothing is imported.
    """
    found: dict[str, str | None] = {"racecast": __version__}
    for name in _DISTRIBUTIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def count_fingerprint(count: Count) -> str:
    """SHA-256 of what a count says (candidates, releases, types, votes, ballots, outstanding, totals).

    Two counts with the same fingerprint give the same forecast with the same
    settings; the count's name and its free-text ``source``/``note`` columns are not
    part of it.

    Examples
    --------
    >>> import racecast
    >>> from racecast.provenance import count_fingerprint
    >>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    >>> count_fingerprint(count[:4]) == count_fingerprint(count[:4])
    True
    >>> count_fingerprint(count[:4]) == count_fingerprint(count[:5])
    False
    """
    h = hashlib.sha256()
    for part in (count.candidates, count.release_batch_types, tuple(count.outstanding.columns)):
        h.update(repr(tuple(str(x) for x in part)).encode())
    for array in (count.votes, count.release_ids, count.ballots_counted, count.outstanding.to_numpy(float)):
        h.update(np.ascontiguousarray(array).astype(np.float64).tobytes())
    h.update(repr([str(t) for t in count.released_at]).encode())
    for name in ("outstanding_total", "expected_total"):  # only when given: older fingerprints hold
        values = np.asarray(getattr(count, name), dtype=np.float64)
        if np.isfinite(values).any():
            h.update(name.encode() + np.nan_to_num(values, nan=-1.0).tobytes())
    return h.hexdigest()
