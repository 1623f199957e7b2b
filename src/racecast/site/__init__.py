"""A static report site of a ballot's forecasts: [`write_site`][racecast.site.write_site].

The site is a folder: ``index.html`` lists every contest (sortable, filterable,
closest races first) and ``contests/`` has a page per contest with its charts
(Vega-Lite, drawn by the scripts in ``assets/``).  It opens from ``file://``
with no network.  Needs the ``report`` extra (altair).
"""

from .build import published_timezone
from .write import write_site

__all__ = ["published_timezone", "write_site"]
