"""`racecast.scoring` as an import path: the names of [`racecast.evaluation.scoring`][]."""

from .evaluation.scoring import *  # noqa: F403
from .evaluation.scoring import __all__ as __all__
