"""What a projected final total leaves to count: the one copy of its distribution.

A projection ``E`` of the final total (``expected_total``) is an estimate of the
*total*, with relative sd ``sd``: the total is ``T = E * exp(s z - s^2 / 2)`` with
``s = sqrt(log(1 + sd^2))`` and ``z`` standard normal (mean ``E``, relative sd ``sd``).
What has been counted, ``C``, is part of the total, so ``T >= C`` is known: what is
left is ``T - C`` given ``T > C``, a log-normal truncated below at ``C`` and shifted.

* Far from the projection (``C`` well below ``E``) this is ``E - C`` with the total's
  absolute error, so the *relative* uncertainty of what is left grows as the count
  nears the projection.
* At or past the projection (``C >= E``: the projection was low) what is left is the
  log-normal's upper tail beyond ``C``: smaller and smaller as ``C`` passes ``E``,
  but never zero. Taking ``max(E - C, 0)`` instead calls the count complete the moment
  it reaches a projection that was 15% low: on the LA County 2022 ballot that gave 25
  confident wrong calls (``benchmarks/projection_real.py``).

``log_ndtr`` keeps the tail ratios accurate where ``C`` is many sds past ``E``. Beyond
``MAX_TAIL_SD`` sds (``C`` some 90 times ``E`` at sd 0.15, a factor no count produces)
the truncation point is held there, which leaves nothing to count: the projection is
spent, and the warning says to give a new one.
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["MAX_TAIL_SD", "draw_left", "log_sd", "mean_left"]

#: Truncation points further than this many sds into the upper tail are held there.
MAX_TAIL_SD = 30.0


def log_sd(sd: float) -> float:
    """The sd ``s`` of the log of a mean-one log-normal of relative sd ``sd`` (its mean is ``-s^2 / 2``)."""
    return float(np.sqrt(np.log1p(sd**2)))


def _params(expected: float, counted: float, sd: float) -> tuple[float, float, float]:
    """``(mu, s, a)``: the log total's mean and sd, and where ``C`` lies in sds of it."""
    s = log_sd(sd)
    mu = float(np.log(expected)) - 0.5 * s**2
    a = (float(np.log(counted)) - mu) / s
    return mu, s, min(a, MAX_TAIL_SD)


def mean_left(expected: float, counted: float, sd: float) -> float:
    """Mean of ``T - C`` given ``T > C``, for the projection ``expected`` of relative sd ``sd``."""
    if counted <= 0 or sd <= 0 or expected <= 0:
        return max(expected - counted, 0.0)
    mu, s, a = _params(expected, counted, sd)
    # E[T | T > C] = exp(mu + s^2 / 2) * Phi(s - a) / Phi(-a)
    tail = np.exp(mu + 0.5 * s**2 + special.log_ndtr(s - a) - special.log_ndtr(-a))
    return float(max(tail - counted, 0.0))


def draw_left(expected: float, counted: float, sd: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """``(size,)`` draws of ``T - C`` given ``T > C`` (inverse-CDF sampling of the truncated normal)."""
    if counted <= 0 or sd <= 0 or expected <= 0:
        s = log_sd(sd)
        total = expected * np.exp(s * rng.standard_normal(size) - 0.5 * s**2)
        return np.maximum(total - max(counted, 0.0), 0.0)
    mu, s, a = _params(expected, counted, sd)
    # z > a: -z = ndtri(u * Phi(-a)), accurate deep in the tail where Phi(a) rounds to 1
    u = 1.0 - rng.uniform(size=size)  # in (0, 1]: u = 0 would put z at infinity
    z = np.maximum(-special.ndtri(u * special.ndtr(-a)), a)
    return np.maximum(np.exp(mu + s * z) - counted, 0.0)
