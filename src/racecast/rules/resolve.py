"""String shortcuts for contest rules (``"majority:0.4"``, ``"seats:3"``, ``"threshold:2/3"``)."""

from __future__ import annotations

import re

import numpy as np

from ..errors import ForecastInputError
from .base import Rule
from .majority import Majority
from .threshold import Threshold
from .topn import Plurality, Seats, TopTwo

__all__ = ["resolve_rule"]

_SHORTCUT = re.compile(r"^\s*([a-z_\- ]+?)\s*(?::\s*(.+?))?\s*$")


def resolve_rule(rule: str | Rule | None, *, seats: int | None = None) -> Rule:
    """Turn a rule or its string shortcut into a [`Rule`][racecast.rules.Rule].

    Parameters
    ----------
    rule
        A [`Rule`][racecast.rules.Rule], ``None`` (plurality) or a shortcut:

        | shortcut | rule |
        | --- | --- |
        | ``"plurality"`` | [`Plurality`][racecast.rules.Plurality] (the default) |
        | ``"majority"``, ``"majority:0.4"`` | [`Majority`][racecast.rules.Majority] at 50% or 40% |
        | ``"top_two"``, ``"top-two"`` | [`TopTwo`][racecast.rules.TopTwo] |
        | ``"seats:3"`` | [`Seats`][racecast.rules.Seats] with 3 seats |
        | ``"threshold"``, ``"threshold:2/3"`` | [`Threshold`][racecast.rules.Threshold] at 50% or 2/3 Yes |

        A threshold is a share between 0 and 1 (``0.55``, ``2/3``); ``"threshold"``
        needs the columns ``Yes`` and ``No``.
    seats
        Number of seats of a multi-seat contest (``forecast(..., seats=3)``);
        only with the plurality/seats rule.  ``seats=1`` is plurality.

    Returns
    -------
    Rule

    Examples
    --------
    >>> resolve_rule("threshold:2/3")
    Threshold(share=Fraction(2, 3), yes='Yes', no='No', pass_at_line=None, recount_margin=0.005)
    >>> resolve_rule(None, seats=3).n
    3
    """
    if seats is not None:
        return _with_seats(rule, seats)
    if rule is None:
        return Plurality()
    if isinstance(rule, Rule):
        return rule
    if not isinstance(rule, str):
        raise ForecastInputError(
            f"rule must be a racecast.rules.Rule or a string shortcut, got {type(rule).__name__}"
        )
    m = _SHORTCUT.match(rule.lower())
    if m is None:
        raise ForecastInputError(_unknown(rule))
    kind, arg = m.group(1).replace("-", "_").replace(" ", "_"), m.group(2)
    if kind == "plurality" and arg is None:
        return Plurality()
    if kind == "majority":
        return Majority() if arg is None else Majority(threshold=arg)
    if kind in ("top_two", "toptwo") and arg is None:
        return TopTwo()
    if kind == "seats" and arg is not None:
        try:
            n = int(arg)
        except ValueError:
            raise ForecastInputError(f"rule {rule!r}: the number of seats must be a whole number") from None
        return Seats(n)
    if kind == "threshold":
        return Threshold() if arg is None else Threshold(share=arg)
    raise ForecastInputError(_unknown(rule))


def _with_seats(rule: str | Rule | None, seats: int) -> Rule:
    """The rule of a ``seats``-seat contest: plurality or seats, and never in conflict with ``rule``."""
    if isinstance(seats, bool) or not isinstance(seats, (int, np.integer)) or seats < 1:
        raise ForecastInputError(f"seats= must be a whole number >= 1, got {seats!r}")
    base = resolve_rule(rule)
    if isinstance(base, Plurality) and (rule is None or isinstance(rule, str)):
        return Plurality() if seats == 1 else Seats(int(seats))
    if isinstance(base, Seats) and base.n == seats:
        return base
    if isinstance(base, Plurality) and seats == 1:
        return base
    raise ForecastInputError(
        f"seats={seats} goes with the plurality rule (top-{seats} win); it conflicts with rule={rule!r}"
    )


def _unknown(rule: str) -> str:
    return (
        f"unknown rule {rule!r}; use 'plurality', 'majority' (or 'majority:0.4'), 'top_two', 'seats:3', "
        "'threshold' (or 'threshold:2/3'), or a racecast.rules.Rule"
    )
