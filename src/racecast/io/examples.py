"""The counts and ballots bundled with racecast: [`example_path`][racecast.example_path]."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["example_path"]


def example_path(name: str) -> Path:
    """Path of a count file or a ballot folder bundled with racecast.

    Parameters
    ----------
    name
        A count, read with [`read_count`][racecast.read_count]:
        ``"la_mayor_2022_general"`` or ``"la_mayor_2022_primary"`` (the ``.csv``
        suffix is optional; sources in ``racecast/data/SOURCES.md``).  Or a
        ballot folder, read with [`read_ballot`][racecast.read_ballot]:
        ``"la_county_2022"`` (18 contests of the LA County 2022 general election;
        sources in its ``SOURCES.md``).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileNotFoundError
        If nothing bundled has that name (the message lists what there is).

    Examples
    --------
    >>> import racecast
    >>> racecast.example_path("la_mayor_2022_general").name
    'la_mayor_2022_general.csv'
    >>> racecast.example_path("la_county_2022").is_dir()
    True
    """
    data = Path(str(resources.files("racecast") / "data"))
    if (data / name).is_dir() and (data / name / "results.csv").is_file():
        return data / name
    fname = name if name.endswith(".csv") else f"{name}.csv"
    path = data / fname
    if not path.is_file():
        counts = sorted(p.stem for p in data.glob("*.csv"))
        ballots = sorted(p.parent.name for p in data.glob("*/results.csv"))
        raise FileNotFoundError(f"no bundled count or ballot {name!r}; counts: {counts}, ballots: {ballots}")
    return path
