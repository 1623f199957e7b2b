"""`racecast.baselines` as an import path: the names of [`racecast.evaluation.baselines`][]."""

from .evaluation.baselines import *  # noqa: F403
from .evaluation.baselines import __all__ as __all__
