"""A whole ballot: every contest of one jurisdiction, released together batch by batch.

A [`Ballot`][racecast.Ballot] holds what [`read_ballot`][racecast.read_ballot]
read: the jurisdiction's releases (when, which batch type, ballots counted and
outstanding), each contest's candidates and cumulative votes after every release,
and each contest's metadata (group, type, seats, pass rate).  Every contest holds
a part of each county-wide release, so
[`Ballot.contest`][racecast.Ballot.contest] gives a contest's
[`Count`][racecast.Count] with the jurisdiction's ``ballots_counted`` and
outstanding ballots, and the model estimates the contest's share of them as it
does for a single count.

Rules come from the metadata ([`Ballot.rule`][racecast.Ballot.rule], the
[`Ballot.rules`][racecast.Ballot.rules] table says why): a measure with a pass
rate is a [`Threshold`][racecast.rules.Threshold] on its Yes/No columns, a Yes/No
contest without one (a judicial retention) a majority threshold, ``vote_for > 1``
[`Seats`][racecast.rules.Seats], anything else [`Plurality`][racecast.rules.Plurality].
A contest with no more candidates than winners is *uncontested*.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pandas as pd

from ._format import OUTSTANDING_PREFIX, expected_at_last
from ._html import html_summary
from .count import Count
from .rules import Majority, Plurality, Rule, Seats, Threshold, TopTwo

__all__ = ["Ballot", "infer_rule"]


def winners(rule: Rule) -> int | None:
    """How many candidates a top-``n`` rule elects (``None`` for other rules)."""
    if isinstance(rule, Seats):
        return int(rule.n)
    if isinstance(rule, TopTwo):
        return 2
    if isinstance(rule, Plurality):
        return 1
    return None


def rule_label(rule: Rule) -> str:
    """The rule as the string shortcut [`resolve_rule`][racecast.rules.resolve_rule] reads back.

    Examples
    --------
    >>> from racecast.rules import Seats, Threshold
    >>> rule_label(Seats(3)), rule_label(Threshold("2/3"))
    ('seats:3', 'threshold:2/3')
    """
    if isinstance(rule, Threshold):
        return f"threshold:{rule.share}"
    if isinstance(rule, Majority):
        return f"majority:{rule.threshold}"
    if isinstance(rule, Seats):
        return f"seats:{rule.n}"
    return rule.name


def _yes_no(candidates: tuple[str, ...]) -> tuple[str, str] | None:
    """The Yes and No column names when the candidates are exactly Yes and No (any case)."""
    by_word = {c.strip().lower(): c for c in candidates}
    if len(candidates) == 2 and set(by_word) == {"yes", "no"}:
        return by_word["yes"], by_word["no"]
    return None


def infer_rule(
    candidates: tuple[str, ...],
    *,
    kind: str = "",
    vote_for: int | None = None,
    pass_share: Fraction | None = None,
) -> tuple[Rule, str]:
    """The rule a contest's metadata implies, and why.

    Parameters
    ----------
    candidates
        The contest's candidates (``YES``/``NO`` for a measure or a retention).
    kind
        The contest's ``type`` (``Candidate``, ``Measure``, ``Judicial``).
    vote_for
        Seats to fill (blank: one).
    pass_share
        A measure's required Yes share (from ``measure_pass_rate``).

    Returns
    -------
    tuple
        The [`Rule`][racecast.rules.Rule] and a one-line reason.

    Examples
    --------
    >>> from fractions import Fraction
    >>> rule, why = infer_rule(("YES", "NO"), kind="Measure", pass_share=Fraction(2, 3))
    >>> rule.share, why
    (Fraction(2, 3), 'measure: passes with 2/3 of the Yes + No votes')
    >>> infer_rule(("A", "B", "C", "D"), vote_for=3)[0]
    Seats(n=3, recount_margin=0.005)
    """
    yes_no = _yes_no(candidates)
    if yes_no is not None and (pass_share is not None or kind.strip().lower() != "candidate"):
        share = Fraction(1, 2) if pass_share is None else pass_share
        measure = Threshold(share, yes=yes_no[0], no=yes_no[1])
        if pass_share is not None:
            return measure, f"measure: passes with {share} of the Yes + No votes"
        what = "judicial retention" if kind.strip().lower() == "judicial" else "Yes/No contest"
        return measure, f"{what}: Yes needs a majority"
    n = 1 if vote_for is None else int(vote_for)
    rule: Rule = Seats(n) if n > 1 else Plurality()
    why = f"vote for {n}: the {n} with the most votes win" if n > 1 else "one seat: the most votes wins"
    if len(candidates) <= n:
        why = f"uncontested: {_plural(len(candidates), 'candidate')} for {_plural(n, 'seat')}"
    return rule, why


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def is_uncontested(rule: Rule, n_candidates: int) -> bool:
    """Whether every candidate wins under ``rule`` (no more candidates than winners)."""
    n = winners(rule)
    return n_candidates <= 1 or (n is not None and n_candidates <= n)


def _did_you_mean(name: str, names: list[str]) -> str:
    near = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return f"; did you mean {near[0]!r}?" if near else ""


@dataclass(frozen=True, eq=False)
class Ballot:
    """Every contest of a ballot as it stood after each of the jurisdiction's releases.

    Read one with [`read_ballot`][racecast.read_ballot]; the format is in
    ``docs/ballot-format.md``.

    Attributes
    ----------
    name : str
        Where the ballot came from (its folder name), used in messages.
    release_ids : numpy.ndarray
        Release numbers.
    released_at : pandas.Series
        Release times (UTC, ``NaT`` when not given).
    release_batch_types : tuple of str
        Batch type of each release.
    ballots_counted : numpy.ndarray
        Cumulative ballots counted in the jurisdiction (``nan`` when blank).
    outstanding : pandas.DataFrame
        Outstanding ballots by type, one row per release, ``nan`` where not reported.
    outstanding_total : numpy.ndarray
        An outstanding total published without a split by type (``nan`` where not
        reported).  It is used when it is fresher than every split
        ([`resolve_outstanding`][racecast.outstanding.resolve_outstanding]).
    text : pandas.DataFrame
        The releases' ``source`` and ``note`` columns, as published.
    info : pandas.DataFrame
        One row per contest (index ``contest``, in file order): ``contest_group``,
        ``type``, ``vote_for``, ``measure_pass_rate``, ``pass_share``.
    candidates : Mapping
        ``{contest: (candidate, ...)}`` in file order.
    votes : Mapping
        ``{contest: (n_releases, n_candidates) array}`` of cumulative votes.
    parties : Mapping
        ``{contest: (party, ...)}`` (``""`` where not given).
    expected_total : numpy.ndarray
        A projection of the jurisdiction's final ballots (``nan`` where not given),
        used by a contest only when nothing is published of what is outstanding.

    Examples
    --------
    >>> import racecast
    >>> ballot = racecast.read_ballot(racecast.example_path("la_county_2022"))
    >>> len(ballot), ballot.contest("SHERIFF")[:2].totals.to_dict()
    (14, {'ALEX VILLANUEVA': 563482, 'ROBERT LUNA': 770084})
    >>> ballot.rule("CULVER CITY GENERAL MUNICIPAL ELECTION - MEASURE VY")
    Threshold(share=Fraction(1, 2), yes='YES', no='NO', pass_at_line=None, recount_margin=0.005)
    """

    name: str
    release_ids: np.ndarray
    released_at: pd.Series
    release_batch_types: tuple[str, ...]
    ballots_counted: np.ndarray
    outstanding: pd.DataFrame
    outstanding_total: np.ndarray
    text: pd.DataFrame
    info: pd.DataFrame
    candidates: Mapping[str, tuple[str, ...]]
    votes: Mapping[str, np.ndarray]
    parties: Mapping[str, tuple[str, ...]]
    expected_total: np.ndarray = field(default_factory=lambda: np.array([], dtype=float))

    def __post_init__(self) -> None:
        if np.asarray(self.expected_total).size == 0:
            object.__setattr__(self, "expected_total", np.full(len(self.release_ids), np.nan))

    def __len__(self) -> int:
        return len(self.release_ids)

    def __getitem__(self, key: slice) -> Ballot:
        """The ballot as it stood after its first ``k`` releases: ``ballot[:k]``."""
        if not isinstance(key, slice) or key.start not in (None, 0) or key.step not in (None, 1):
            raise TypeError("index a Ballot with a slice from its start, e.g. ballot[:k]")
        n = len(range(*slice(0, key.stop).indices(len(self))))
        if n < 1:
            raise ValueError("ballot[:k] needs k >= 1: a ballot has at least one release")
        return Ballot(
            name=self.name,
            release_ids=self.release_ids[:n],
            released_at=self.released_at.iloc[:n].reset_index(drop=True),
            release_batch_types=self.release_batch_types[:n],
            ballots_counted=self.ballots_counted[:n],
            outstanding=self.outstanding.iloc[:n].reset_index(drop=True),
            outstanding_total=self.outstanding_total[:n],
            text=self.text.iloc[:n].reset_index(drop=True),
            info=self.info,
            candidates=self.candidates,
            votes={c: v[:n] for c, v in self.votes.items()},
            parties=self.parties,
            expected_total=self.expected_total[:n],
        )

    def with_expected_total(self, total: float) -> Ballot:
        """The ballot with a projection of the jurisdiction's final ballots at its last release.

        What [`Count.with_expected_total`][racecast.Count.with_expected_total] does for one
        count, for every contest at once (a Clarity feed publishes nothing of what is
        outstanding): each contest's share of the ballots is learnt from ``ballots_counted``.

        Parameters
        ----------
        total
            Expected final ballots of the whole jurisdiction.

        Returns
        -------
        Ballot
            A copy with ``expected_total`` set at the last release.

        Raises
        ------
        ValueError
            When ``total`` is not a finite non-negative number, or the ballot never
            reports ``ballots_counted``.
        """
        if not np.isfinite(self.ballots_counted).any():
            raise ValueError(
                f"{self.name} never reports ballots_counted, so a projection of its ballots cannot be "
                "shared among its contests; give each contest's count its own expected total in votes"
            )
        return dataclasses.replace(self, expected_total=expected_at_last(self.expected_total, total))

    def as_of(self, release: int) -> Ballot:
        """The ballot as it stood after the release numbered ``release`` (its ``release`` column)."""
        where = np.flatnonzero(self.release_ids == release)
        if isinstance(release, bool) or not where.size:
            raise ValueError(
                f"as_of={release!r} is not a release of {self.name}: {self.release_ids.tolist()}"
            )
        return self[: int(where[0]) + 1]

    @property
    def contests(self) -> tuple[str, ...]:
        """Contest names, in file order."""
        return tuple(self.info.index)

    def _check(self, name: str) -> str:
        if name not in self.candidates:
            raise KeyError(f"{self.name} has no contest {name!r}{_did_you_mean(name, list(self.contests))}")
        return name

    def contest(self, name: str) -> Count:
        """The contest's [`Count`][racecast.Count], named by the contest.

        It holds the contest's cumulative votes and the jurisdiction's releases:
        batch types, times, ``ballots_counted``, ``outstanding_<type>``,
        ``outstanding_total``, ``expected_total``, ``source`` and ``note``.  A one-candidate contest's
        count has one candidate column.
        """
        self._check(name)
        return Count(
            candidates=self.candidates[name],
            votes=self.votes[name].copy(),
            release_batch_types=self.release_batch_types,
            release_ids=self.release_ids.copy(),
            released_at=self.released_at.copy(),
            ballots_counted=self.ballots_counted.copy(),
            outstanding=self.outstanding.copy(),
            text=self.text.copy(),
            name=name,
            outstanding_total=self.outstanding_total.copy(),
            expected_total=self.expected_total.copy(),
        )

    def _inferred(self, name: str) -> tuple[Rule, str]:
        row = self.info.loc[self._check(name)]
        vote_for = None if pd.isna(row["vote_for"]) else int(row["vote_for"])
        share = row["pass_share"] if isinstance(row["pass_share"], Fraction) else None
        return infer_rule(self.candidates[name], kind=str(row["type"]), vote_for=vote_for, pass_share=share)

    def rule(self, name: str) -> Rule:
        """The contest's rule, from its metadata (see [`infer_rule`][racecast.ballot.infer_rule])."""
        return self._inferred(name)[0]

    @property
    def rules(self) -> pd.DataFrame:
        """One row per contest: ``rule`` (its shortcut), ``uncontested`` and ``reason``."""
        rows = []
        for c in self.contests:
            rule, why = self._inferred(c)
            rows.append((c, rule_label(rule), is_uncontested(rule, len(self.candidates[c])), why))
        return pd.DataFrame(rows, columns=["contest", "rule", "uncontested", "reason"]).set_index("contest")

    @property
    def releases(self) -> pd.DataFrame:
        """The jurisdiction's releases as a table, in the layout of ``releases.csv``."""
        df = pd.DataFrame(
            {
                "released_at": self.released_at.to_numpy(),
                "batch_type": list(self.release_batch_types),
                "ballots_counted": self.ballots_counted,
            },
            index=pd.Index(self.release_ids, name="release"),
        )
        for t in self.outstanding.columns:
            df[OUTSTANDING_PREFIX + t] = self.outstanding[t].to_numpy()
        df["outstanding_total"] = self.outstanding_total
        if np.isfinite(self.expected_total).any():
            df["expected_total"] = self.expected_total
        for col in self.text.columns:
            df[col] = self.text[col].to_numpy()
        return df

    @property
    def totals(self) -> pd.DataFrame:
        """Votes after the last release, one row per (contest, candidate), with ``party``."""
        rows = [
            (c, cand, party, int(v))
            for c in self.contests
            for cand, party, v in zip(self.candidates[c], self.parties[c], self.votes[c][-1], strict=True)
        ]
        return pd.DataFrame(rows, columns=["contest", "candidate", "party", "votes"]).set_index(
            ["contest", "candidate"]
        )

    def overview(self) -> pd.DataFrame:
        """One row per contest: group, rule, candidates, votes counted and the leader."""
        rules = self.rules
        rows = []
        for c in self.contests:
            v = self.votes[c][-1]
            lead = self.candidates[c][int(np.argmax(v))] if v.sum() > 0 else ""
            rows.append(
                (c, self.info.at[c, "contest_group"], rules.at[c, "rule"], len(v), int(v.sum()), lead)
            )
        cols = ["contest", "contest_group", "rule", "candidates", "votes", "leader"]
        return pd.DataFrame(rows, columns=cols).set_index("contest")

    def _span(self) -> str:
        at = self.released_at.dropna()
        if at.empty:
            return f"releases {self.release_ids[0]}-{self.release_ids[-1]}"
        return f"{at.iloc[0]:%Y-%m-%d %H:%M} to {at.iloc[-1]:%Y-%m-%d %H:%M} UTC"

    def __repr__(self) -> str:
        kinds = self.rules["rule"].str.split(":").str[0].value_counts()
        return (
            f"<Ballot {self.name!r}: {len(self)} releases ({self._span()}), {len(self.contests)} contests "
            f"({', '.join(f'{n} {k}' for k, n in kinds.items())})>"
        )

    def _repr_html_(self) -> str:
        rules = self.rules
        counts = {"contests": len(self.contests), "uncontested": int(rules["uncontested"].sum())}
        title = (
            f"Ballot {self.name}: {len(self)} releases, {self._span()}, as of release {self.release_ids[-1]}"
        )
        return html_summary(title, counts, self.overview())
