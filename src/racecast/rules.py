"""Contest rules: who wins, given simulated final vote totals.

A rule turns an array of simulated final totals ``(draws, candidates)`` into the
events the contest defines (who wins, who reaches a runoff, ...) and their
probabilities.  Rules are small immutable objects; :func:`resolve_rule` accepts
the string shortcuts used by :func:`racecast.forecast`.

Ties: an exact tie for a decisive place is broken uniformly at random within the
draw (a coin flip, as many US jurisdictions do by lot); the probability of an
exact tie is reported separately.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Rule", "RuleResult", "Plurality", "resolve_rule"]


@dataclass(frozen=True)
class RuleResult:
    """What a rule says about a set of simulated final counts.

    Attributes
    ----------
    win_probability : pandas.Series
        Per candidate; its meaning is the rule's (for plurality: P(win), sums to 1).
    outcomes : pandas.DataFrame
        Tidy table of every event the rule defines: columns ``event``,
        ``candidate`` (empty string when the event is not about one candidate)
        and ``probability``.
    winners : numpy.ndarray
        ``(draws, candidates)`` boolean: which candidates "win" in each draw.
    """

    win_probability: pd.Series
    outcomes: pd.DataFrame
    winners: np.ndarray


class Rule:
    """Base class of contest rules."""

    name: str = "rule"

    def evaluate(self, final_votes: np.ndarray, candidates: tuple[str, ...], rng: np.random.Generator) -> RuleResult:
        """Evaluate the rule on simulated final totals ``(draws, candidates)``."""
        raise NotImplementedError


def _rank_with_random_ties(final_votes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Candidate indices per draw, best first; exact ties broken uniformly at random."""
    jitter = rng.random(final_votes.shape)
    # lexsort: last key is primary -> sort by votes descending, then random jitter
    return np.lexsort((jitter, -final_votes.astype(np.float64)), axis=-1)


@dataclass(frozen=True)
class Plurality(Rule):
    """One winner: the candidate with the most votes.

    ``win_probability`` is P(most votes) and sums to 1.  Outcomes: ``win`` per
    candidate and ``tie`` (an exact tie for first place, before the coin flip).
    """

    name: str = "plurality"

    def evaluate(self, final_votes: np.ndarray, candidates: tuple[str, ...], rng: np.random.Generator) -> RuleResult:
        order = _rank_with_random_ties(final_votes, rng)
        first = order[:, 0]
        winners = np.zeros(final_votes.shape, dtype=bool)
        winners[np.arange(len(first)), first] = True
        p = winners.mean(axis=0)
        top = final_votes.max(axis=1)
        tie = float(((final_votes == top[:, None]).sum(axis=1) > 1).mean())
        idx = pd.Index(candidates, name="candidate")
        outcomes = pd.DataFrame(
            {"event": ["win"] * len(candidates) + ["tie"], "candidate": [*candidates, ""], "probability": [*p, tie]}
        )
        return RuleResult(win_probability=pd.Series(p, index=idx, name="win_probability"), outcomes=outcomes, winners=winners)


def resolve_rule(rule: str | Rule | None) -> Rule:
    """Turn a rule or its string shortcut into a :class:`Rule`.

    Parameters
    ----------
    rule
        ``None`` or ``"plurality"`` for the default, or a :class:`Rule` instance.
    """
    if rule is None or rule == "plurality":
        return Plurality()
    if isinstance(rule, Rule):
        return rule
    raise ValueError(f"unknown rule {rule!r}; use 'plurality' or a racecast.rules.Rule")
