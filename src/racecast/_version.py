"""The installed racecast version (falls back to the source tree's)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("racecast")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.1.0+source"
