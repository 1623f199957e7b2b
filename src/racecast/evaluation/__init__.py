"""How good are the forecasts: replay a finished count, score the forecasts, compare with baselines.

- [`replay`][racecast.replay] ([`racecast.evaluation.replay`][]): a forecast after every
  release of a finished count, from what was known then;
- [`racecast.evaluation.metrics`][] and [`racecast.scoring`][racecast.evaluation.scoring]:
  Brier score, log loss, interval coverage, time to call;
- [`racecast.evaluation.baselines`][]: naive forecasters scored the same way;
- [`racecast.evaluation.synthetic`][]: synthetic counts with a known truth, for calibration checks;
- [`racecast.evaluation.calibration`][]: coverage by stage of the count, reliability, PIT, Brier
  and confident wrong calls of replayed forecasts against the final result;
- [`racecast.evaluation.ballot_replay`][]: every contest of a ballot replayed against its final release.
"""

from . import ballot_replay, baselines, calibration, metrics, replay, scoring, synthetic

# The replay function is racecast.replay; here `replay` is its module, never shadowed by the function.
__all__ = ["ballot_replay", "baselines", "calibration", "metrics", "replay", "scoring", "synthetic"]
