"""``python -m racecast``: the same command line as ``racecast``."""

from .cli import main

main()
