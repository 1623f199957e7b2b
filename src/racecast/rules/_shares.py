"""Exact share arithmetic for thresholds: shares as fractions, above / at / near a line."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..errors import ForecastInputError


def _as_fraction(x: float | Fraction | str, what: str) -> Fraction:
    """A share strictly between 0 and 1 as an exact fraction (floats to denominator 10**6)."""
    try:
        if isinstance(x, str):
            f = Fraction(x.strip())
        elif isinstance(x, Fraction):
            f = x
        else:
            xf = float(x)
            if not np.isfinite(xf):
                raise ValueError
            f = Fraction(xf).limit_denominator(1_000_000)
    except (ValueError, ZeroDivisionError, TypeError):
        raise ForecastInputError(f"{what} must be a share such as 0.5, 0.55 or '2/3', got {x!r}") from None
    if not (0 < f < 1):
        raise ForecastInputError(f"{what} must be strictly between 0 and 1, got {x!r}")
    return f


def _share(x: np.ndarray, total: np.ndarray) -> np.ndarray:
    """``x / total``, 0 where the total is 0."""
    return np.divide(x, total, out=np.zeros_like(x, dtype=np.float64), where=total > 0)


def _above(x: np.ndarray, total: np.ndarray, share: Fraction) -> tuple[np.ndarray, np.ndarray]:
    """``x / total > share`` and ``x / total == share``, exactly for whole-number votes."""
    lhs = x * share.denominator
    rhs = total * share.numerator
    return lhs > rhs, lhs == rhs


def _near(x: np.ndarray, total: np.ndarray, share: Fraction, margin: float) -> np.ndarray:
    """``x / total`` within ``margin`` of ``share`` (recount territory around a threshold)."""
    return np.abs(_share(x, total) - float(share)) <= margin
