"""What a contest rule says about a set of simulated final counts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["RuleResult"]


@dataclass(frozen=True)
class RuleResult:
    """What a rule says about a set of simulated final counts.

    Attributes
    ----------
    win_probability : pandas.Series
        Per candidate, indexed by candidate; its meaning is the rule's (see the
        table in [`racecast.rules`][racecast.rules]).
    outcomes : pandas.DataFrame
        Tidy table of every event the rule defines: columns ``event``,
        ``candidate`` (``""`` when the event is about the contest, ``"A vs B"``
        for a pairing) and ``probability``.
    winners : numpy.ndarray
        ``(kept draws, candidates)`` boolean: which candidates the rule marks as
        winners (``win_probability`` is its column mean) in each kept draw.
    rule : str
        Name of the rule that produced the result.
    called : tuple of str
        The called outcome the result is pinned to (empty when none).
    called_probability : float
        The model's probability of the called outcome before pinning (NaN when
        nothing is called).
    kept_draws : numpy.ndarray or None
        ``(draws,)`` boolean: the simulated draws the result is computed on (all
        of them unless a race is called; then those consistent with the call).
        ``None`` means all draws.

    Examples
    --------
    >>> import numpy as np
    >>> from racecast.rules import Plurality
    >>> res = Plurality().evaluate(np.array([[60, 40], [45, 55]]), ("A", "B"), np.random.default_rng(0))
    >>> res.win_probability.to_dict()
    {'A': 0.5, 'B': 0.5}
    >>> res.probability("tie")
    0.0
    """

    win_probability: pd.Series
    outcomes: pd.DataFrame
    winners: np.ndarray
    rule: str = ""
    called: tuple[str, ...] = ()
    called_probability: float = float("nan")
    kept_draws: np.ndarray | None = None

    @property
    def events(self) -> tuple[str, ...]:
        """The event names in ``outcomes``, in table order."""
        return tuple(dict.fromkeys(self.outcomes["event"]))

    def probabilities(self, event: str) -> pd.Series:
        """Probabilities of one event, indexed by candidate (or pairing).

        Examples
        --------
        >>> import numpy as np
        >>> from racecast.rules import TopTwo
        >>> res = TopTwo().evaluate(np.array([[50, 30, 20]]), ("A", "B", "C"), np.random.default_rng(0))
        >>> res.probabilities("advance").to_dict()
        {'A': 1.0, 'B': 1.0, 'C': 0.0}
        """
        rows = self.outcomes[self.outcomes["event"] == event]
        if rows.empty:
            raise KeyError(f"no event {event!r}; this {self.rule} result has {list(self.events)}")
        return pd.Series(
            rows["probability"].to_numpy(),
            index=pd.Index(rows["candidate"].to_numpy(), name="candidate"),
            name=event,
        )

    def summary_lines(self, *, top: int = 3) -> list[str]:
        """Readable lines for the events beyond ``win_probability``.

        Contest-level events (``runoff``, ``tie``, ...) one per line; other
        per-candidate events (``reach_runoff``) and the ``top`` most likely
        pairings on one line each.

        Examples
        --------
        >>> import numpy as np
        >>> from racecast.rules import Majority
        >>> res = Majority().evaluate(np.array([[40, 35, 25]]), ("A", "B", "C"), np.random.default_rng(0))
        >>> print("\\n".join(res.summary_lines()))
        P(runoff) = 1.000
        P(reach_runoff): A 1.000, B 1.000, C 0.000
        P(runoff_pairing): A vs B 1.000
        P(tie) = 0.000
        P(at_threshold) = 0.000
        P(within_recount_margin) = 0.000
        """
        lines = []
        if self.called:
            lines.append(
                f"called: {' and '.join(self.called)} (the model gave this outcome "
                f"{self.called_probability:.3f} before the call; every probability is conditional on it)"
            )
        wp = self.win_probability
        for event in self.events:
            s = self.probabilities(event)
            if len(s) == 1 and s.index[0] == "":
                lines.append(f"P({event}) = {s.iloc[0]:.3f}")
            elif s.index.isin(wp.index).all() and np.allclose(
                s.to_numpy(), wp[s.index].to_numpy(), equal_nan=True
            ):
                continue  # the win_probability events themselves (win, seat, pass/fail, ...)
            else:
                shown = s.head(top) if "pairing" in event else s
                lines.append(f"P({event}): " + ", ".join(f"{c} {p:.3f}" for c, p in shown.items()))
        return lines

    def probability(self, event: str) -> float:
        """Probability of a contest-level event (``runoff``, ``tie``, ...).

        Examples
        --------
        >>> import numpy as np
        >>> from racecast.rules import Majority
        >>> res = Majority().evaluate(np.array([[40, 35, 25]]), ("A", "B", "C"), np.random.default_rng(0))
        >>> res.probability("runoff")
        1.0
        """
        s = self.probabilities(event)
        if len(s) != 1 or s.index[0] != "":
            raise KeyError(f"event {event!r} is per candidate; use .probabilities({event!r})")
        return float(s.iloc[0])
