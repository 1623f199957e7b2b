"""``racecast forecast FILE``: who is going to win a count file.

Every output is read off the one table of the forecast,
[`forecast_table`][racecast.report.forecast_table]: ``--format csv`` is
[`forecast_csv`][racecast.report.forecast_csv], ``--format json`` is
[`Forecast.to_dict`][racecast.Forecast.to_dict], and the readable table shows its rows.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .. import report
from ..errors import ForecastInputError
from ..io import read_count
from ..pipeline import forecast
from ..result import Forecast
from ..settings import DEFAULT_DRAWS, DEFAULT_INTERVAL
from ._options import (
    DEFAULT_ENGINE_CHOICE,
    AsOfOption,
    CountFile,
    DrawsOption,
    EngineOption,
    ExampleOption,
    ExpectedTotalOption,
    FormatOption,
    IntervalOption,
    PriorsOption,
    RemainingOption,
    SeedOption,
    as_of,
    parse_remaining,
    priors_kwargs,
    source_path,
)
from ._output import OutputFormat, Report, reporting, stderr_console, write_output

__all__ = ["forecast_command"]

_RuleOption = Annotated[
    str,
    typer.Option(
        help="Contest rule: plurality, majority (or majority:0.4), top_two, seats:N, threshold "
        "(or threshold:2/3)."
    ),
]
_SeatsOption = Annotated[
    int | None, typer.Option(help="Seats of a multi-seat contest (the top N win).", show_default=False)
]
_CalledOption = Annotated[
    list[str] | None,
    typer.Option(
        "--called",
        metavar="NAME",
        help="An outcome called by an authority (repeat for several winners); every number is then "
        "conditional on it.",
        show_default=False,
    ),
]
_MinShareOption = Annotated[
    float | None,
    typer.Option(
        "--min-share",
        help="Pool candidates below this share of the votes counted so far into one 'Other' column.",
        show_default=False,
    ),
]


def forecast_report(fc: Forecast, total_releases: int) -> Report:
    """Heading, table and footer of the readable forecast, read off the forecast's table."""
    rows = report.forecast_table(fc).set_index("candidate")
    first = rows.iloc[0]
    of = f" of {total_releases}" if total_releases != len(fc.count) else ""
    heading = (
        f"{Path(fc.count.name).name}: forecast after release {int(first['as_of_release'])} "
        f"({len(fc.count)}{of} releases; engine {first['engine']}, {fc.settings.get('draws')} draws, "
        f"rule {first['rule']})"
    )
    table = Table()
    table.add_column("candidate")
    table.add_column("votes", justify="right")
    table.add_column(getattr(fc.rule, "win_label", "P(win)"), justify="right")
    table.add_column("final share", justify="right")
    table.add_column(f"{round(100 * float(first['interval']))}% interval", justify="right")
    for c in rows["win_probability"].sort_values(ascending=False).index:
        r = rows.loc[c]
        table.add_row(
            str(c),
            f"{int(r['votes']):,}",
            f"{r['win_probability']:.3f}",
            f"{100 * r['final_share_median']:.1f}%",
            f"{100 * r['final_share_lower']:.1f}% - {100 * r['final_share_upper']:.1f}%",
        )
    leader = rows.index[rows["leader"]][0]
    footer = (
        f"P(current leader {leader} does not win): {float(first['lead_change_probability']):.3f}\n"
        f"outstanding: {report.outstanding_text(fc.remaining)}"
    )
    if fc.rule_result.called:
        footer += (
            f"\ncalled: {' and '.join(fc.rule_result.called)} (every number above is conditional on it; "
            f"the model alone gave it {fc.rule_result.called_probability:.3f})"
        )
    return heading, table, footer


def forecast_command(
    ctx: typer.Context,
    file: CountFile = None,
    remaining: RemainingOption = None,
    expected_total: ExpectedTotalOption = None,
    rule: _RuleOption = "plurality",
    seats: _SeatsOption = None,
    called: _CalledOption = None,
    min_share: _MinShareOption = None,
    engine: EngineOption = DEFAULT_ENGINE_CHOICE,
    seed: SeedOption = None,
    draws: DrawsOption = DEFAULT_DRAWS,
    interval: IntervalOption = DEFAULT_INTERVAL,
    as_of_release: AsOfOption = None,
    priors: PriorsOption = None,
    output: FormatOption = OutputFormat.table,
    example: ExampleOption = None,
) -> None:
    """Forecast the final result of a count file."""
    path = source_path(file, example, "file")
    with reporting(ctx):
        full = read_count(path)
        count = as_of(full, as_of_release)
        if expected_total is not None:
            try:
                count = count.with_expected_total(expected_total)
            except ValueError as exc:
                raise ForecastInputError(f"--expected-total: {exc}") from None
        rem = parse_remaining(remaining)
        err = stderr_console()
        busy = (
            err.status(f"fitting the batch-type model ({engine.value}, {draws} draws)...")
            if err.is_terminal
            else contextlib.nullcontext()
        )
        with busy:
            fc = forecast(
                count,
                remaining=rem,
                seed=seed,
                draws=draws,
                engine=engine.value,
                rule=rule,
                seats=seats,
                called=called or None,
                min_share=min_share,
                interval=interval,
                **priors_kwargs(priors),
            )
        write_output(
            output,
            as_json=fc.to_dict,
            as_csv=lambda: report.forecast_csv(fc),
            as_report=lambda: forecast_report(fc, len(full)),
        )
