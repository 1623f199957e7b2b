"""racecast: who is going to win while the ballots are still being counted.

Read a count (cumulative votes per candidate after each release, each release
tagged with its batch type), fit a Bayesian model of how each batch type leans,
simulate the outstanding ballots batch by batch, and report win probabilities and
final-share intervals.

>>> import racecast
>>> count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
>>> fc = racecast.forecast(count[:4], seed=1, engine="fast")   # after the Nov 10 release
>>> fc.win_probability.idxmax()
'Karen Bass'
"""

from __future__ import annotations

# modules reached as attributes: racecast.rules.Majority, racecast.scoring.brier_score, racecast.plot ...
from . import baselines, outstanding, plot, pooling, provenance, report, rules, scoring, settings  # noqa: F401
from . import errors as _errors
from ._version import __version__
from .ballot import Ballot
from .ballot_forecast import BallotForecast, forecast_ballot
from .count import Count
from .errors import *  # noqa: F403  (every error and warning class, as listed in errors.__all__)
from .evaluation.replay import Replay, replay
from .history import prior_from
from .io import example_path, read_ballot, read_clarity, read_clarity_ballot, read_count, read_nyt2020
from .learn import LearnedPriors, learn_priors
from .model import Priors
from .parallel import forecast_many
from .pipeline import forecast
from .prior import Prior
from .priors_file import read_priors, write_priors
from .result import Forecast, read_forecast
from .settings import NutsSettings
from .shared_scales import SharedScales, share_scales

__all__ = [
    "Count",
    "forecast",
    "Forecast",
    "forecast_many",
    "read_forecast",
    "NutsSettings",
    "Priors",
    "Prior",
    "prior_from",
    "learn_priors",
    "LearnedPriors",
    "read_priors",
    "write_priors",
    "replay",
    "Replay",
    "read_count",
    "read_nyt2020",
    "read_clarity",
    "read_clarity_ballot",
    "example_path",
    "read_ballot",
    "Ballot",
    "forecast_ballot",
    "BallotForecast",
    "share_scales",
    "SharedScales",
    "__version__",
    *_errors.__all__,  # every error and warning class
]
