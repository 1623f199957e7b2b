"""A one-line text progress bar that works in a terminal and in a Jupyter notebook.

The bar is redrawn in place with a carriage return, which terminals and
Jupyter's output area both honour, so it needs no widget library and leaves
one line behind when it is done.  [`replay`][racecast.replay] and
[`forecast_many`][racecast.forecast_many] draw theirs with it.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["ProgressBar", "shows_progress"]


def _in_notebook(stream: TextIO) -> bool:
    """Whether ``stream`` is a Jupyter kernel's output stream (what ``sys.stderr`` is in a notebook)."""
    return type(stream).__module__.split(".")[0] == "ipykernel"


def shows_progress(enabled: bool | None, stream: TextIO | None = None) -> bool:
    """``enabled``, or by default whether ``stream`` (stderr) is a terminal or a notebook's output."""
    if enabled is not None:
        return bool(enabled)
    out = sys.stderr if stream is None else stream
    try:
        terminal = out.isatty()
    except (AttributeError, ValueError):  # a closed or minimal stream
        terminal = False
    return terminal or _in_notebook(out)


class ProgressBar:
    """``label [#####-----] done/total unit, seconds`` on a stream (stderr by default).

    Parameters
    ----------
    total
        Steps to do.
    enabled
        Draw the bar; when ``False`` every call is a no-op.
    label
        What is being done.
    unit
        What a step is (``contests``, ``releases``).
    stream
        Where to draw (default: ``sys.stderr`` when the bar is made).
    """

    width = 30

    def __init__(
        self, total: int, enabled: bool, label: str, unit: str = "contests", stream: TextIO | None = None
    ):
        self.total, self.done, self.enabled = total, 0, enabled and total > 0
        self.label, self.unit = label, unit
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.perf_counter()
        self._draw()

    def update(self, n: int = 1) -> None:
        """Count ``n`` more steps done and redraw."""
        self.done += n
        self._draw()

    def _draw(self) -> None:
        if not self.enabled:
            return
        filled = int(self.width * self.done / self.total)
        elapsed = time.perf_counter() - self.start
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total} {self.unit}, {elapsed:.1f} s")
        if self.done >= self.total:
            self.stream.write("\n")
        self.stream.flush()
