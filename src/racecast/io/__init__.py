"""Readers: files in, validated [`Count`][racecast.Count] out.

Every reader funnels through the same validation, so a bad file gets the same
clear [`CountFormatError`][racecast.CountFormatError] naming the file, row and
column whatever its origin; readers raise no other racecast error.
"""

from .ballot import ballot_problems, read_ballot
from .clarity import CLARITY_VOTE_TYPES, read_clarity
from .clarity_ballot import read_clarity_ballot
from .csv import count_problems, read_count
from .examples import example_path
from .nyt2020 import read_nyt2020

__all__ = [
    "CLARITY_VOTE_TYPES",
    "ballot_problems",
    "count_problems",
    "example_path",
    "read_ballot",
    "read_clarity",
    "read_clarity_ballot",
    "read_count",
    "read_nyt2020",
]
