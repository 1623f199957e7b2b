"""A whole ballot forecast at once: [`forecast_ballot`][racecast.forecast_ballot].

Each contest gets its rule from the ballot's metadata (or from ``rules=``) and
one of the statuses in [`STATUSES`][racecast.ballot_forecast.STATUSES]:
contests with no more candidates than winners are *uncontested* and contests
with no votes yet are *waiting* (neither is modelled); the others are forecast
on the process pool or Dask client of [`forecast_many`][racecast.forecast_many],
and their status says how sure the forecast is of the contest's leading outcome.
A contest whose forecast fails gets the status *error* and its message; the others are not affected.
"""

from __future__ import annotations

import difflib
import inspect
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, is_dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._html import html_summary
from .ballot import Ballot, is_uncontested, rule_label, winners
from .errors import ForecastInputError, RacecastWarning
from .parallel import COLUMNS, ContestOutcome, open_backend, run_contests
from .rules import Majority, Rule, Threshold, resolve_rule
from .settings import DEFAULT_ENGINE, DEFAULT_SHARED_SCALES, Engine, ForecastSettings
from .shared_scales import share_scales

__all__ = ["CALLED", "LIKELY", "STATUSES", "BallotForecast", "forecast_ballot"]

#: A contest is *called* when its leading outcome has at least this probability.
CALLED = 0.99
#: A contest is *likely* when its leading outcome has at least this probability (and less than ``CALLED``).
LIKELY = 0.90

STATUSES = {
    "uncontested": "no more candidates than winners: every candidate wins, certain (not modelled)",
    "waiting": "no votes counted in the contest yet (not modelled)",
    "called": f"the leading outcome has probability >= {CALLED}",
    "likely": f"the leading outcome has probability >= {LIKELY} (and < {CALLED})",
    "too close to call": f"the leading outcome has probability < {LIKELY}",
    "forecast": "forecast, but the rule has no single leading outcome to rate (a rule of your own)",
    "error": "the contest's forecast failed; its message says why (the other contests are not affected)",
}
"""Every status of a contest, with its meaning, in the order they are counted.

The *leading outcome* is the most likely one: the winner of a plurality contest
(its probability is P(win)); the ``n`` candidates with the highest P(seat) of a
``n``-seat contest (its probability is the lowest of those ``n``: the least
certain seat); pass or fail for a measure; for a majority rule, the most likely
of an outright winner and a runoff."""

#: Columns of [`BallotForecast.table`][racecast.BallotForecast.table] read off each contest's forecast.
TABLE_COLUMNS = COLUMNS[:7]


@dataclass(frozen=True, eq=False)
class BallotForecast:
    """Every contest of a ballot forecast at once; made by [`forecast_ballot`][racecast.forecast_ballot].

    Attributes
    ----------
    ballot : Ballot
        The ballot as it stood when forecast.
    table : pandas.DataFrame
        One row per (contest, candidate) (index ``contest``, ``candidate``):
        ``votes``, ``win_probability`` (the rule's probability: P(win),
        P(seat), P(pass)/P(fail)), ``final_share_median``/``_lower``/``_upper``,
        ``leader``, ``lead_change_probability`` (named as in
        [`forecast_many`][racecast.forecast_many]), ``rule`` and ``status``.
        An uncontested contest has probability 1; waiting and failed contests ``NaN``.
    contests : pandas.DataFrame
        One row per contest (index ``contest``): ``contest_group``, ``rule``,
        ``status`` (see [`STATUSES`][racecast.ballot_forecast.STATUSES]),
        ``outcome`` (the leading outcome), ``probability`` (its probability),
        ``message``, ``votes``, ``seconds``, ``warnings`` (the forecast's
        warnings) and ``error``.
    settings : dict
        The seed the ballot ran on, ``as_of_release`` and the options.
    """

    ballot: Ballot
    table: pd.DataFrame
    contests: pd.DataFrame
    settings: dict[str, Any]

    @property
    def status_counts(self) -> pd.Series:
        """Contests per status, in the order of [`STATUSES`][racecast.ballot_forecast.STATUSES]."""
        counts = self.contests["status"].value_counts()
        return pd.Series({s: int(counts.get(s, 0)) for s in STATUSES if counts.get(s, 0)}, name="contests")

    def _title(self) -> str:
        at = self.ballot.released_at.iloc[-1]
        when = "" if pd.isna(at) else f" ({at:%Y-%m-%d %H:%M} UTC)"
        return f"{self.ballot.name} as of release {self.ballot.release_ids[-1]}{when}"

    def __repr__(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in self.status_counts.items())
        return f"<BallotForecast {self._title()}: {len(self.contests)} contests: {counts}>"

    def _repr_html_(self) -> str:
        cols = ["contest_group", "rule", "status", "outcome", "probability", "message"]
        return html_summary(
            f"Ballot forecast {self._title()}", self.status_counts.to_dict(), self.contests[cols]
        )


def _status(p: float) -> str:
    if not np.isfinite(p):
        return "forecast"
    return "called" if p >= CALLED else "likely" if p >= LIKELY else "too close to call"


def _leading(rule: Rule, cands: list[str], p: np.ndarray) -> tuple[str, float]:
    """The leading outcome in words and its probability (``nan`` when the rule has none racecast knows)."""
    if isinstance(rule, Threshold):
        p_yes = float(p[cands.index(rule.yes)])
        return ("passes", p_yes) if p_yes >= 0.5 else ("fails", 1.0 - p_yes)
    n = winners(rule)
    if n is not None:
        order = np.argsort(-p, kind="stable")[:n]
        names = [cands[i] for i in order]
        verb = "wins" if n == 1 else "win the seats" if rule.name == "seats" else "advance"
        listed = names[0] if n == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        return f"{listed} {verb}", float(p[order[-1]])
    if isinstance(rule, Majority):
        best, p_runoff = int(np.argmax(p)), 1.0 - float(p.sum())
        return (
            ("runoff", p_runoff) if p_runoff > p[best] else (f"{cands[best]} wins outright", float(p[best]))
        )
    return "", float("nan")


def _message(status: str, outcome: str, p: float) -> str:
    if status == "called":
        return f"{outcome} (P = {p:.3f})"
    if status == "likely":
        return f"likely: {outcome} (P = {p:.3f})"
    if status == "too close to call":
        return f"too close to call: most likely {outcome} (P = {p:.3f})"
    return "forecast made; see the table for each candidate's probability"


def _static_rows(
    contest: str, cands: tuple[str, ...], votes: np.ndarray, uncontested: bool
) -> list[dict[str, Any]]:
    """The table rows of a contest that is not modelled (uncontested, waiting) or whose forecast failed."""
    lead = int(np.argmax(votes)) if votes.sum() > 0 else -1
    share = 1.0 if uncontested and len(cands) == 1 else float("nan")
    return [
        {
            "contest": contest,
            "candidate": c,
            "votes": int(v),
            "win_probability": 1.0 if uncontested else float("nan"),
            "final_share_median": share,
            "final_share_lower": share,
            "final_share_upper": share,
            "leader": i == lead,
            "lead_change_probability": 0.0 if uncontested else float("nan"),
        }
        for i, (c, v) in enumerate(zip(cands, votes, strict=True))
    ]


def _rules(ballot: Ballot, rules: Mapping[str, str | Rule] | None) -> dict[str, Rule]:
    """Each contest's rule: from ``rules=`` where given (checked here), else from the metadata."""
    given = dict(rules or {})
    for name in given:
        if name not in ballot.candidates:
            near = difflib.get_close_matches(str(name), list(ballot.contests), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise ForecastInputError(f"rules=: {ballot.name} has no contest {name!r}{hint}")
    return {c: resolve_rule(given[c]) if c in given else ballot.rule(c) for c in ballot.contests}


def _check_options(engine: Any, forecast_kwargs: dict[str, Any]) -> None:
    for key, use in (
        ("rule", "rules={contest: rule}"),
        ("seats", "the contests' vote_for"),
        ("count", "ballot"),
    ):
        if key in forecast_kwargs:
            raise ForecastInputError(f"forecast_ballot() takes no {key}=; use {use}")
    accepted = inspect.signature(ForecastSettings.validate).parameters
    ForecastSettings.validate(engine=engine, **{k: v for k, v in forecast_kwargs.items() if k in accepted})


def forecast_ballot(
    ballot: Ballot,
    *,
    as_of: int | None = None,
    rules: Mapping[str, str | Rule] | None = None,
    seed: int | None = None,
    engine: Engine = DEFAULT_ENGINE,
    processes: int | None = None,
    client: Any = None,
    executor: Any = None,
    progress: bool = True,
    chunksize: int | None = None,
    shared_scales: bool = DEFAULT_SHARED_SCALES,
    **forecast_kwargs: Any,
) -> BallotForecast:
    """Forecast every contest of a ballot; one contest's failure never stops the others.

    Parameters
    ----------
    ballot
        The ballot ([`read_ballot`][racecast.read_ballot]).
    as_of
        Forecast the ballot as it stood after this release (its number in the
        ``release`` column; default: the last).
    rules
        ``{contest: rule}`` overriding the rules inferred from the metadata
        ([`Ballot.rules`][racecast.Ballot.rules]); a [`Rule`][racecast.rules.Rule]
        or a shortcut such as ``"seats:2"``.
    seed
        Seed of the whole ballot (default: a fresh one, recorded in ``settings``);
        each forecast contest gets a seed derived from it and its position among
        the contests forecast, as in [`forecast_many`][racecast.forecast_many].
    engine, processes, client, executor, progress, chunksize
        As for [`forecast_many`][racecast.forecast_many].
    shared_scales
        Learn the model's scales across the contests as the ballot stands
        ([`share_scales`][racecast.share_scales], on the same processes; recorded in
        ``settings["shared_scales"]``), not from ``priors=`` alone.
    **forecast_kwargs
        Passed to [`forecast`][racecast.forecast] for every contest (``draws``,
        ``interval``, ``remaining``, ...); not ``rule`` or ``seats``, which come
        from the ballot.

    Returns
    -------
    BallotForecast
        Its ``contests`` table has each contest's status (see
        [`STATUSES`][racecast.ballot_forecast.STATUSES]) and message.

    Warns
    -----
    RacecastWarning
        Once if some contests failed (their status is ``error``), and once per
        kind of warning the contests' forecasts raised (every message is in
        ``contests["warnings"]``).

    Examples
    --------
    >>> import warnings, racecast
    >>> ballot = racecast.read_ballot(racecast.example_path("la_county_2022"))
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", racecast.RacecastWarning)
    ...     fc = racecast.forecast_ballot(ballot, as_of=2, seed=1, engine="fast", processes=1, progress=False)
    >>> fc.contests.loc["MEMBER OF THE STATE ASSEMBLY, 57th District", "status"]
    'uncontested'
    >>> fc.contests.loc["SHERIFF", "outcome"]
    'ROBERT LUNA wins'
    """
    if not isinstance(ballot, Ballot):
        raise ForecastInputError(f"forecast_ballot() takes a racecast.Ballot, got {type(ballot).__name__}")
    _check_options(engine, forecast_kwargs)
    if processes is not None and processes < 1:
        raise ForecastInputError(f"processes must be >= 1, got {processes!r}")
    try:
        now = ballot if as_of is None else ballot.as_of(as_of)
    except ValueError as exc:
        raise ForecastInputError(str(exc)) from None
    rule_of = _rules(now, rules)
    seed = int(np.random.SeedSequence().generate_state(1)[0]) if seed is None else seed
    modelled = [
        (c, now.contest(c), rule_of[c])
        for c in now.contests
        if not is_uncontested(rule_of[c], len(now.candidates[c])) and now.votes[c][-1].sum() > 0
    ]
    kwargs = {"engine": engine, **forecast_kwargs}
    learned = None
    label = "forecast_ballot" if progress else False
    with open_backend(processes, client, executor, len(modelled)) as pool:  # one pool for both steps
        if shared_scales:
            learned = share_scales((c for _, c, _ in modelled), kwargs.get("priors"), executor=pool.executor)
            kwargs["priors"] = learned.priors
        outcomes = run_contests(
            modelled, kwargs, seed=seed, backend=pool, progress=label, errors="record", chunksize=chunksize
        )
    table, contests = _tables(now, rule_of, {o.name: o for o in outcomes})
    _warn(contests)
    settings = {"seed": seed, "as_of_release": int(now.release_ids[-1]), **_plain(kwargs)}
    if learned is not None:
        settings["shared_scales"] = learned.to_dict()
    return BallotForecast(ballot=now, table=table, contests=contests, settings=settings)


def _plain(kwargs: dict[str, Any]) -> dict[str, Any]:  # the options as JSON values (Priors as a dict)
    plain = {k: asdict(v) if is_dataclass(v) and not isinstance(v, type) else v for k, v in kwargs.items()}
    return {k: v for k, v in plain.items() if isinstance(v, (str, int, float, bool, dict))}


def _contest_row(ballot: Ballot, c: str, rule: Rule, outcome: ContestOutcome | None) -> dict[str, Any]:
    """The ``contests`` row of one contest: its status, leading outcome and message."""
    votes = ballot.votes[c][-1]
    n = len(votes)
    row: dict[str, Any] = {
        "contest": c,
        "contest_group": ballot.info.at[c, "contest_group"],
        "rule": rule_label(rule),
    }
    row.update(
        outcome="",
        probability=float("nan"),
        votes=int(votes.sum()),
        seconds=float("nan"),
        warnings=(),
        error=None,
    )
    if outcome is None and is_uncontested(rule, n):
        row.update(status="uncontested", outcome="every candidate wins", probability=1.0)
        row["message"] = (
            f"uncontested: {n} candidate(s) for {winners(rule) or 1} seat(s); certain (not modelled)"
        )
    elif outcome is None:
        row.update(
            status="waiting", message=f"waiting: no votes counted yet as of release {ballot.release_ids[-1]}"
        )
    elif outcome.error is not None:
        row["warnings"] = tuple(m for _, m in outcome.warnings)
        error = f"{type(outcome.error).__name__}: {outcome.error}"
        row.update(status="error", message=error, error=error)
    else:
        p = np.array([r["win_probability"] for r in outcome.rows], dtype=float)
        what, prob = _leading(rule, [str(r["candidate"]) for r in outcome.rows], p)
        status = _status(prob)
        row.update(status=status, outcome=what, probability=prob, message=_message(status, what, prob))
        row.update(seconds=float(outcome.rows[0]["seconds"]), warnings=tuple(m for _, m in outcome.warnings))
    return row


def _tables(
    ballot: Ballot, rule_of: dict[str, Rule], outcomes: dict[str, ContestOutcome]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The per-candidate table and the per-contest table, contests in ballot order."""
    rows: list[dict[str, Any]] = []
    contest_rows = []
    for c in ballot.contests:
        o = outcomes.get(c)
        info = _contest_row(ballot, c, rule_of[c], o)
        contest_rows.append(info)
        got = o.rows if o is not None and o.error is None else None
        got = got or _static_rows(
            c, ballot.candidates[c], ballot.votes[c][-1], info["status"] == "uncontested"
        )
        rows.extend(
            {
                **{k: r[k] for k in ("contest", "candidate", *TABLE_COLUMNS)},
                "rule": info["rule"],
                "status": info["status"],
            }
            for r in got
        )
    table = pd.DataFrame(rows, columns=["contest", "candidate", *TABLE_COLUMNS, "rule", "status"])
    cols = [
        "contest",
        "contest_group",
        "rule",
        "status",
        "outcome",
        "probability",
        "message",
        "votes",
        "seconds",
        "warnings",
        "error",
    ]
    return table.set_index(["contest", "candidate"]), pd.DataFrame(contest_rows, columns=cols).set_index(
        "contest"
    )


def _warn(contests: pd.DataFrame) -> None:
    """One warning for the contests that failed, one per kind of warning their forecasts raised."""
    failed = contests.index[contests["status"] == "error"].tolist()
    if failed:
        warnings.warn(
            f"forecast_ballot(): {len(failed)} of {len(contests)} contests failed ({', '.join(failed[:3])}"
            f"{', ...' if len(failed) > 3 else ''}); their status is 'error' and the message says why",
            RacecastWarning,
            stacklevel=3,
        )
    raised = [(c, m) for c, ms in contests["warnings"].items() for m in ms]
    if raised:
        c, m = raised[0]
        n = len({c for c, _ in raised})
        example = m if c in m else f"{c}: {m}"
        warnings.warn(
            f"forecast_ballot(): {len(raised)} warning(s) in {n} contest(s), e.g. {example} "
            "(every message is in BallotForecast.contests['warnings'])",
            RacecastWarning,
            stacklevel=3,
        )
