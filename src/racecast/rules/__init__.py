"""Contest rules: who wins, given simulated final vote totals.

A rule turns an array of simulated final totals ``(draws, candidates)`` into the
events the contest defines (who wins, who reaches a runoff, whether a measure
passes, ...) and their probabilities, estimated as the share of draws in which
the event happens.  Rules are small immutable objects:

| rule | ``win_probability`` means | sums to |
| --- | --- | --- |
| [`Plurality`][racecast.rules.Plurality] | P(most votes) | 1 |
| [`Majority`][racecast.rules.Majority] | P(win outright, above the threshold) | 1 - P(runoff) |
| [`TopTwo`][racecast.rules.TopTwo] | P(advance to the general election) | 2 |
| [`Seats`][racecast.rules.Seats] | P(win one of the ``n`` seats) | ``n`` |
| [`Threshold`][racecast.rules.Threshold] | Yes: P(pass), No: P(fail) | 1 |

[`resolve_rule`][racecast.rules.resolve_rule] accepts the string shortcuts used
by [`forecast`][racecast.forecast] (``"plurality"``, ``"majority"``,
``"majority:0.4"``, ``"top_two"``, ``"seats:3"``, ``"threshold"``,
``"threshold:2/3"``).

Ties: an exact tie for a decisive place is broken uniformly at random within the
draw (a coin flip: many US jurisdictions settle ties by lot), so a tied pair
splits the draw's win.  The probability that the result comes down to such a
tie is reported as the ``tie`` event, and the probability that the decisive
margin is within a recount margin (``recount_margin``, a share of the votes,
0.005 = half a point) as ``within_recount_margin``.

Pooled blocs: a column named ``"Other (n candidates)"`` (see
[`racecast.pooling`][racecast.pooling]) counts towards totals and shares but
never takes a winning place; its probabilities are reported as 0.

Called races: ``evaluate(..., called=...)`` pins the outcome an authority has
called.  Every event is then computed on the draws consistent with the call
(probabilities conditional on the call), and ``RuleResult.kept_draws`` says which
draws those are, so vote-share intervals can be conditioned the same way.
"""

from .base import Rule
from .lead import lead_change_probability
from .majority import Majority
from .resolve import resolve_rule
from .result import RuleResult
from .threshold import Threshold
from .topn import Plurality, Seats, TopTwo

__all__ = [
    "Majority",
    "Plurality",
    "Rule",
    "RuleResult",
    "Seats",
    "Threshold",
    "TopTwo",
    "lead_change_probability",
    "resolve_rule",
]
