"""Priors in a JSON file: what [`learn_priors`][racecast.learn_priors] learned, used again.

A newsroom that refits racecast's simulation terms on its own jurisdiction's past
counts keeps the result in a file and forecasts with it, from Python or with
``racecast forecast / replay / ballot / watch --priors FILE``.  The file is a JSON
object of [`Priors`][racecast.Priors] fields (``null`` turns a term off), with
optionally ``outstanding_sd`` ([`forecast`][racecast.forecast]'s argument) and the
scores ``LearnedPriors.to_dict()`` adds (``log_score``, ``start_log_score``,
``n_releases``: read and not used).  ``docs/priors-learned.json``, whose ``learned``
object holds the fit, is accepted as it is.  Fields the file does not name keep
their defaults.  Anything else is an error naming the file and the key.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import fields
from pathlib import Path
from typing import Any

from .errors import ForecastInputError
from .learn import LearnedPriors
from .model import Priors
from .model.data import simulation_terms

__all__ = ["read_priors", "write_priors"]

#: Keys ``LearnedPriors.to_dict`` writes besides the values: read and not used.
SCORE_KEYS = frozenset({"log_score", "start_log_score", "n_releases"})


def _value(label: str, key: str, value: Any, optional: bool) -> float | None:
    if value is None and optional:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        allowed = "a non-negative number or null" if optional else "a non-negative number"
        raise ForecastInputError(f"{label}: {key} must be {allowed}, got {value!r}")
    return float(value)


def read_priors(path: str | os.PathLike[str]) -> tuple[Priors, float | None]:
    """The priors and the outstanding sd a JSON file holds.

    Parameters
    ----------
    path
        A JSON object of [`Priors`][racecast.Priors] fields, as
        [`write_priors`][racecast.priors_file.write_priors] or ``json.dump(
        learned.to_dict(), f)`` write it, or an object whose ``learned`` key holds one
        (``docs/priors-learned.json``).

    Returns
    -------
    priors : Priors
        The file's values; fields it does not name keep their defaults.
    outstanding_sd : float or None
        The file's ``outstanding_sd``, or ``None`` when it has none (the forecast's
        own default then applies).

    Raises
    ------
    ForecastInputError
        The file cannot be read, is not JSON, or names a key that is not a field of
        ``Priors``, or a value that is not a non-negative number (or ``null`` for a term).
    """
    label = str(path)
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ForecastInputError(f"{label}: priors file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ForecastInputError(f"{label}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ForecastInputError(
            f"{label}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if isinstance(record, dict) and isinstance(record.get("learned"), dict):
        record = record["learned"]
    if not isinstance(record, dict):
        raise ForecastInputError(f"{label}: a priors file is a JSON object of Priors fields")
    terms = simulation_terms()  # the fields null may turn off
    known = {f.name: f.name in terms for f in fields(Priors)}
    unknown = sorted(set(record) - set(known) - SCORE_KEYS - {"outstanding_sd"})
    if unknown:
        raise ForecastInputError(
            f"{label}: {', '.join(unknown)} {'is not a field' if len(unknown) == 1 else 'are not fields'} "
            f"of racecast.Priors; the fields are {', '.join(known)} (and outstanding_sd)"
        )
    values: dict[str, Any] = {k: _value(label, k, v, known[k]) for k, v in record.items() if k in known}
    try:
        priors = Priors(**values)
    except ForecastInputError as exc:
        raise ForecastInputError(f"{label}: {exc}") from None
    sd = record.get("outstanding_sd")
    return priors, None if sd is None else _value(label, "outstanding_sd", sd, False)


def write_priors(
    path: str | os.PathLike[str], priors: Priors | LearnedPriors, outstanding_sd: float | None = None
) -> Path:
    """Write ``priors`` (every field) to a JSON file [`read_priors`][racecast.priors_file.read_priors] reads.

    A [`LearnedPriors`][racecast.LearnedPriors] brings its learned ``outstanding_sd``
    and its scores; ``outstanding_sd`` overrides the former.  Returns the path.
    """
    record: dict[str, Any] = {}
    if isinstance(priors, LearnedPriors):
        scores = priors.to_dict()
        record.update({k: scores[k] for k in SCORE_KEYS})
        outstanding_sd = priors.outstanding_sd if outstanding_sd is None else outstanding_sd
        priors = priors.priors
    values: dict[str, Any] = {f.name: getattr(priors, f.name) for f in fields(Priors)}
    if outstanding_sd is not None:
        values["outstanding_sd"] = float(outstanding_sd)
    out = Path(path)
    out.write_text(json.dumps({**values, **record}, indent=2) + "\n", encoding="utf-8")
    return out
