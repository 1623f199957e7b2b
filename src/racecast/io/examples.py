"""The count files bundled with racecast: [`example_path`][racecast.example_path]."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["example_path"]


def example_path(name: str) -> Path:
    """Path of a count file bundled with racecast.

    Parameters
    ----------
    name
        ``"la_mayor_2022_general"`` or ``"la_mayor_2022_primary"`` (the ``.csv``
        suffix is optional).  Sources are in ``racecast/data/SOURCES.md``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileNotFoundError
        If no bundled count has that name (the message lists those there are).

    Examples
    --------
    >>> import racecast
    >>> racecast.example_path("la_mayor_2022_general").name
    'la_mayor_2022_general.csv'
    """
    fname = name if name.endswith(".csv") else f"{name}.csv"
    path = Path(str(resources.files("racecast") / "data" / fname))
    if not path.is_file():
        available = sorted(p.stem for p in Path(path.parent).glob("*.csv"))
        raise FileNotFoundError(f"no bundled count {name!r}; available: {available}")
    return path
