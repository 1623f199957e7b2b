"""What is still to be counted: the one rule every forecaster uses.

The outstanding amount of each batch type is its latest estimate reported at or
before the last release ([`Count.latest_outstanding`][racecast.Count.latest_outstanding]),
replaced by the caller's ``remaining[type]`` where given. When the count reports
``ballots_counted`` the amounts are jurisdiction ballots, and they become this
contest's votes with the ratio of votes to ballots counted so far
([`votes_per_ballot`][racecast.outstanding.votes_per_ballot]). The model
([`forecast`][racecast.forecast]) and the baselines ([`racecast.evaluation.baselines`][]) both
read what is outstanding through [`resolve_outstanding`][racecast.outstanding.resolve_outstanding],
so they cannot disagree.

A total published without a split by type (``outstanding_total``) reported at a later
release than every ``outstanding_<type>`` replaces the split: what it says is left (less
what was counted since) is shared among the types as the latest split was published,
or, with no split, given to the type of the latest release; a total as fresh as a split
gives way to it (the LA County 2022 evidence is in docs/model.md).

With nothing published at all, a projected final total (``expected_total``, or
[`Count.with_expected_total`][racecast.Count.with_expected_total]) less everything
counted is what is left, all of it the type of the latest release.  A projection is an
estimate of the *total* (relative sd ``outstanding_sd``) and the total is at least what
was counted, so what is left is drawn given that (``racecast._projection``): its
relative uncertainty grows as the count nears the projection, and a count past it
still has the projection's upper tail to come.  Published estimates, however stale,
win over a projection: they count ballots in hand.

Edges: no estimate at all (no projection, no ``remaining=``) is an input error,
because silently assuming the count is complete would call races early;
``remaining={}`` says so explicitly.  An estimate reported before later releases of
its own type is *stale*: what those releases counted of the type (in the estimate's
unit: jurisdiction ballots when reported, else their votes at the votes-per-ballot
ratio) is subtracted, at most down to zero; ``source`` and the returned notes say so
(the caller warns), and ``published`` keeps the estimate as published (the simulation
widens the uncertainty of what is left, `racecast.simulate.RemainingSpec`).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._format import MAX_NUMBER, TYPE_RE, last_reported, snake
from ._projection import mean_left
from .count import Count
from .errors import ForecastInputError

__all__ = ["Outstanding", "check_remaining", "resolve_outstanding", "votes_per_ballot"]

DEFAULT_OUTSTANDING_SD = 0.15
"""Relative sd of outstanding estimates and projected totals (learned at 0.15, ``docs/model.md``;
LA 2022's Nov 9 estimate was ~14% low); public as ``racecast.settings.DEFAULT_OUTSTANDING_SD``."""


@dataclass(frozen=True, eq=False)
class Outstanding:
    """What is outstanding, by batch type.

    Attributes
    ----------
    table : pandas.DataFrame
        Index ``batch_type``; columns ``amount`` (in ``unit``), ``unit``
        (``"ballots"`` or ``"votes"``), ``source`` (``"reported at release k"``,
        ``"reported at release k, less n counted since in m release(s)"`` for a stale
        estimate, ``"total reported at release k; ..."`` for a fresher total,
        ``"projected: expected total ..."`` for a projection, or ``"override"``) and
        ``counted`` (whether the type has counted ballots).
    votes_per_ballot : float
        Contest votes per jurisdiction ballot counted so far (1.0 when the amounts
        are already contest votes).
    stale : tuple of str
        One message per stale estimate (reported before later releases of its type),
        and one for a projection the count has passed.
    published : dict
        Amount by type as published, for the stale estimates only (``amount`` is what
        is left of it after subtracting what was counted since).
    projected : dict
        ``{type: (expected total, counted)}`` for an amount projected from an expected
        total (its ``amount`` is the mean of what the projection leaves).
    """

    table: pd.DataFrame
    votes_per_ballot: float
    stale: tuple[str, ...] = ()
    published: dict[str, float] = field(default_factory=dict)
    projected: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def amounts(self) -> dict[str, float]:
        """Outstanding amount by type, in the count's unit."""
        return {str(t): float(a) for t, a in self.table["amount"].items()}

    @property
    def votes(self) -> dict[str, float]:
        """Expected outstanding contest votes by type (amounts times the votes-per-ballot ratio)."""
        return {t: a * self.votes_per_ballot for t, a in self.amounts.items()}

    @property
    def total_votes(self) -> float:
        """Expected outstanding contest votes in all."""
        return float(sum(self.votes.values()))

    def model_types(self, count: Count) -> tuple[str, ...]:
        """Batch types the model carries: the count's counted ones, then outstanding ones not counted yet."""
        types = list(count.batch_types)
        return tuple(types + [str(t) for t in self.table.index if t not in types])


def votes_per_ballot(count: Count) -> float:
    """Contest votes per jurisdiction ballot at the last release that reports ``ballots_counted``.

    Returns 1.0 for a count without ``ballots_counted`` (outstanding amounts are
    then already in contest votes).

    Raises
    ------
    ForecastInputError
        When the last reported ``ballots_counted`` is 0: no ratio can be formed.
    """
    i = last_reported(count.ballots_counted)
    if i is None:  # outstanding amounts are contest votes
        return 1.0
    ballots = float(count.ballots_counted[i])
    if ballots <= 0:
        raise ForecastInputError(
            f"{count.name}: ballots_counted is 0 at release {int(count.release_ids[i])}, so outstanding "
            "ballots cannot be turned into this contest's votes; fix ballots_counted, or remove the column "
            "and give outstanding amounts in contest votes"
        )
    return float(count.votes[i].sum()) / ballots


def _override(t: object, amount: object) -> float:
    try:
        val = float(amount)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ForecastInputError(f"remaining[{t!r}] must be a number, got {amount!r}") from None
    if not np.isfinite(val) or val < 0:
        raise ForecastInputError(f"remaining[{t!r}] must be a finite non-negative number, got {amount!r}")
    return val


def _stale_message(count: Count, t: str | None, rel: int, later: list[int], since: float) -> str:
    """The warning for an estimate of type ``t`` (``None``: the total) with releases ``later`` after it."""
    column, of_type = ("total", "") if t is None else (t, f"{t} ")
    update = "remaining={...} by type" if t is None else f"remaining={{'{t}': ...}}"
    return (
        f"{count.name}: outstanding_{column} was last reported at release {rel}, but {len(later)} "
        f"{of_type}release(s) came after it ({later[:3]}); the {since:,.0f} {count.outstanding_unit} they "
        f"counted are subtracted from it and its uncertainty widened. Pass {update} to update it."
    )


def _less_since(rel: int, later: list[int], since: float) -> str:
    """The ``source`` of an estimate reported at release ``rel``, less what ``later`` releases counted."""
    less = f", less {since:,.0f} counted since in {len(later)} release(s)" if later else ""
    return f"reported at release {rel}{less}"


def _counted_since(count: Count, later: list[int]) -> float:
    """What the releases ``later`` counted, in the count's outstanding unit.

    Ballots from ``ballots_counted`` where the release and the one before report it,
    else the release's votes at the votes-per-ballot ratio; votes for a count
    without ``ballots_counted``.
    """
    pos = {int(r): i for i, r in enumerate(count.release_ids)}
    total = 0.0
    for r in later:
        i = pos[r]
        votes = float(count.votes[i].sum() - (count.votes[i - 1].sum() if i else 0))
        if count.outstanding_unit == "votes":
            total += max(votes, 0.0)
            continue
        b = count.ballots_counted
        before = b[i - 1] if i else 0.0
        if np.isfinite(b[i]) and np.isfinite(before):
            total += max(float(b[i] - before), 0.0)
        else:
            total += max(votes, 0.0) / votes_per_ballot(count)
    return total


_Rows = dict[str, tuple[float, str, float]]  # by type: amount left, source, amount published


def _split_rows(count: Count, overridden: Mapping[str, float]) -> tuple[_Rows, list[str]]:
    """Each type's latest ``outstanding_<type>``, less what its type counted since (unless overridden)."""
    rows: _Rows = {}
    stale: list[str] = []
    for t, (amount, rel) in count.latest_outstanding().items():
        rows[t] = (amount, f"reported at release {rel}", amount)
        releases = zip(count.release_ids, count.release_batch_types, strict=True)
        later = [int(r) for r, bt in releases if r > rel and bt == t]
        if later and t not in overridden:
            since = _counted_since(count, later)
            rows[t] = (max(amount - since, 0.0), _less_since(rel, later, since), amount)
            stale.append(_stale_message(count, t, rel, later, since))
    return rows, stale


def _fresher_total(count: Count) -> tuple[_Rows, list[str]] | None:
    """The rows from a published total fresher than every split, or ``None`` when there is none.

    The total is shared in proportion to the latest split as published: what
    was counted since the split is already in the total, and a total fresher than
    the split says the split's arithmetic no longer holds.
    """
    i = last_reported(count.outstanding_total)
    if i is None:
        return None
    rel = int(count.release_ids[i])
    latest = count.latest_outstanding()
    if any(r >= rel for _, r in latest.values()):
        return None
    published = float(count.outstanding_total[i])
    later = [int(r) for r in count.release_ids[i + 1 :]]
    since = _counted_since(count, later) if later else 0.0
    left = max(published - since, 0.0)
    split = {t: a for t, (a, _) in latest.items() if a > 0}
    how = "split as the estimates by type"
    if not split:
        split = {count.release_batch_types[-1]: 1.0}
        how = "all of it the type of the latest release"
    weight = sum(split.values())
    source = "total " + _less_since(rel, later, since)
    out: _Rows = dict.fromkeys(latest, (0.0, f"{source}; none of it this type", 0.0))
    for t, a in split.items():
        share = a / weight
        out[t] = (left * share, f"{source}; {how}", published * share)
    return out, [_stale_message(count, None, rel, later, since)] if later else []


def _projected(count: Count, sd: float) -> tuple[_Rows, list[str], dict[str, tuple[float, float]]] | None:
    """The rows from the latest ``expected_total`` (``None`` without one), and ``{type: (E, C)}``.

    What is left is the projection ``E`` less everything counted ``C``, given that the
    total is at least ``C`` (``racecast._projection``), all of it the latest release's type.
    """
    i = last_reported(count.expected_total)
    if i is None:
        return None
    expected = float(count.expected_total[i])
    # everything counted: the last reported ballots_counted and what releases after it added
    b = last_reported(count.ballots_counted)
    first = 0 if b is None else b + 1
    counted = (0.0 if b is None else float(count.ballots_counted[b])) + _counted_since(
        count, [int(r) for r in count.release_ids[first:]]
    )
    left = mean_left(expected, counted, sd)
    t = count.release_batch_types[-1]
    source = (
        f"projected: expected total {expected:,.0f} (release {int(count.release_ids[i])}) "
        f"less {counted:,.0f} counted; all of it the type of the latest release"
    )
    notes = []
    if counted >= expected:
        notes.append(
            f"{count.name}: the {counted:,.0f} {count.outstanding_unit} counted have passed the expected "
            f"total of {expected:,.0f}, so the projection was low; what is left is taken from its upper "
            f"tail ({left:,.0f} on average). Give a new expected_total, or remaining={{...}} by type."
        )
    return {t: (left, source, left)}, notes, {t: (expected, counted)}


def resolve_outstanding(
    count: Count,
    remaining: Mapping[str, float] | None = None,
    *,
    outstanding_sd: float = DEFAULT_OUTSTANDING_SD,
) -> Outstanding:
    """The outstanding amount of each batch type: latest reported, then ``remaining`` overrides.

    Parameters
    ----------
    count
        The count as it stands.
    remaining
        Outstanding amount by batch type in the count's unit
        ([`Count.outstanding_unit`][racecast.Count.outstanding_unit]), overriding the
        reported estimates; ``{}`` with no outstanding columns means the count is complete.
    outstanding_sd
        Relative sd of a projected total (``expected_total``): what a projection
        leaves depends on how far off it may be.

    Returns
    -------
    Outstanding

    Raises
    ------
    ForecastInputError
        When nothing says what is outstanding, an override is not a finite
        non-negative number, or ballots cannot be turned into votes.

    Examples
    --------
    >>> import racecast
    >>> from racecast.outstanding import resolve_outstanding
    >>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    >>> out = resolve_outstanding(count[:3])
    >>> round(out.total_votes)     # 1,006,300 ballots x 492,670 / 1,318,093
    376130
    """
    rows, stale = _split_rows(count, remaining or {})
    exact: dict[str, tuple[float, float]] = {}
    if remaining is None:
        total = _fresher_total(count)
        if total is not None:
            rows, stale = total
    for t, amount in (remaining or {}).items():
        val = _override(t, amount)
        rows[str(t)] = (val, "override", val)
    if not rows and remaining is None:
        projected = _projected(count, outstanding_sd)
        if projected is None:
            raise ForecastInputError(
                f"{count.name}: nothing says how many ballots are still to be counted. Add "
                "outstanding_<type> columns to the count file (e.g. outstanding_late_mail) or a projected "
                "expected_total, or pass remaining={'late_mail': 331000} to forecast(); pass remaining={} "
                "if the count is complete."
            )
        rows, stale, exact = projected
    names = list(rows)
    amounts = np.array([rows[t][0] for t in names], dtype=float)
    counted = set(count.counted_types)
    table = pd.DataFrame(
        {
            "amount": amounts,
            "unit": [count.outstanding_unit] * len(names),
            "source": [rows[t][1] for t in names],
            "counted": np.array([t in counted for t in names], dtype=bool),
        },
        index=pd.Index(names, name="batch_type", dtype="str"),
    )
    ratio = votes_per_ballot(count) if amounts.sum() > 0 else 1.0
    published = {t: rows[t][2] for t in names if rows[t][2] > rows[t][0]}
    return Outstanding(
        table=table, votes_per_ballot=ratio, stale=tuple(stale), published=published, projected=exact
    )


def check_remaining(count: Count, remaining: Mapping[str, float] | None) -> None:
    """Refuse, with what to do, a ``remaining=`` the model and simulation cannot use.

    Checks that it is a mapping of batch-type labels to plausible amounts, and that
    when the amounts are jurisdiction ballots some release adds both ballots and
    votes (else the contest's share of ballots cannot be learnt).
    """
    if remaining is not None and not isinstance(remaining, Mapping):
        raise ForecastInputError(
            f"remaining must be a mapping {{batch_type: amount}}, e.g. {{'late_mail': 331000}}, "
            f"got {type(remaining).__name__}"
        )
    for t in remaining or {}:
        if not isinstance(t, str) or not TYPE_RE.match(t):
            guess = snake(str(t))
            raise ForecastInputError(
                f"remaining: {t!r} is not a batch type; types are snake_case labels"
                + (f" (did you mean {guess!r}?)" if TYPE_RE.match(guess) else "")
                + f"; the count has {list(count.batch_types)}"
            )
    for t in remaining or {}:
        close = difflib.get_close_matches(t, [b for b in count.batch_types if b != t], n=1, cutoff=0.8)
        if t not in count.batch_types and close:
            raise ForecastInputError(
                f"remaining: {count.name} has no batch type {t!r}; did you mean {close[0]!r}? "
                f"(its types are {list(count.batch_types)}; a type it has not seen yet needs a name "
                "that is not a near-miss of these)"
            )
    amounts = {t: a for t, (a, _) in count.latest_outstanding().items()}
    for t, amount in (remaining or {}).items():
        try:
            val = float(amount)
        except (TypeError, ValueError):
            continue  # reported by resolve_outstanding
        if np.isfinite(val) and val > MAX_NUMBER:
            raise ForecastInputError(
                f"remaining[{t!r}] = {amount!r} is implausibly large (more than {MAX_NUMBER:,}); "
                "give the outstanding ballots (or votes) of this contest"
            )
        amounts[str(t)] = val
    if count.has_ballots and any(np.isfinite(a) and a > 0 for a in amounts.values()):
        spans = count.turnout_spans()
        if not ((spans["ballots"] > 0) & (spans["votes"] > 0)).any():
            raise ForecastInputError(
                f"{count.name}: ballots_counted is reported, so outstanding amounts are read as "
                "jurisdiction ballots, but no release adds both ballots and votes, so the contest's share "
                "of ballots cannot be learnt. Check ballots_counted (is it 0?), or remove the column and "
                "give outstanding amounts in contest votes."
            )
