"""The ``racecast`` command line.

``racecast forecast FILE`` prints who is going to win a count file, ``racecast
replay FILE`` forecasts a finished count after each of its releases and scores
it, ``racecast validate FILE`` lists every problem of a count file, ``racecast
--version`` prints the version.  The commands and the JSON/CSV outputs are documented in
``docs/cli.md``.

Conventions: results go to standard output, warnings and errors to standard
error, one line each (no traceback unless ``--debug``).  Exit codes: 0 success,
1 unexpected failure, 2 bad input (a malformed count, a bad option value).

Examples
--------
>>> from typer.testing import CliRunner
>>> from racecast.cli import app
>>> result = CliRunner().invoke(app, ["--version"])
>>> result.stdout.startswith("racecast ")
True
"""

from __future__ import annotations

import contextlib
import csv
import io as _io
import json
import re
import sys
import warnings
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from ._version import __version__
from .count import Count
from .errors import ForecastInputError, RacecastError, RacecastWarning
from .pipeline import forecast
from .result import Forecast
from .io import _count_problems, read_count
from .evaluation.replay import Replay, replay

__all__ = ["CSV_COLUMNS", "EXIT_BAD_INPUT", "EXIT_FAILURE", "EXIT_OK", "REPLAY_CSV_COLUMNS", "app", "main"]

#: Exit code of a successful run.
EXIT_OK = 0
#: Exit code of an unexpected failure (a bug: please report it with ``--debug`` output).
EXIT_FAILURE = 1
#: Exit code of bad input: a malformed count file or an unusable option value.
EXIT_BAD_INPUT = 2

app = typer.Typer(
    name="racecast",
    help="Who is going to win while the ballots are still being counted.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class Engine(str, Enum):
    """Inference engine of ``racecast forecast``."""

    nuts = "nuts"
    fast = "fast"


class OutputFormat(str, Enum):
    """Output format of ``racecast forecast``."""

    table = "table"
    json = "json"
    csv = "csv"


def _stdout() -> Console:
    # a terminal gets its own width; a pipe or file gets lines long enough not to wrap tables
    console = Console(file=sys.stdout, highlight=False, soft_wrap=False)
    return console if console.is_terminal else Console(file=sys.stdout, highlight=False, width=160)


def _stderr() -> Console:
    return Console(file=sys.stderr, highlight=False, soft_wrap=True)


def _say(kind: str, message: str) -> None:
    """One line on standard error: ``racecast: <kind>: <message>``."""
    flat = " ".join(str(message).split())
    print(f"racecast: {kind}: {flat}", file=sys.stderr)


@contextlib.contextmanager
def _reporting(ctx: typer.Context) -> Iterator[None]:
    """Turn racecast warnings and errors into one line each on stderr, with exit codes."""
    debug = bool((ctx.obj or {}).get("debug"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RacecastWarning)
        if not debug:
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            warnings.filterwarnings("ignore", category=FutureWarning)
        try:
            yield
        except (typer.Exit, typer.Abort):
            raise
        except RacecastError as exc:
            _flush(caught)
            if debug:
                raise
            _say("error", str(exc))
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except ImportError as exc:
            _flush(caught)
            if debug:
                raise
            _say("error", str(exc))
            raise typer.Exit(EXIT_FAILURE) from None
        except Exception as exc:  # a bug: one line, the traceback with --debug
            _flush(caught)
            if debug:
                raise
            _say("error", f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)")
            raise typer.Exit(EXIT_FAILURE) from None
        _flush(caught)


def _flush(caught: list[warnings.WarningMessage]) -> None:
    seen: set[str] = set()
    for w in caught:
        msg = str(w.message)
        if issubclass(w.category, RacecastWarning) and msg not in seen:
            seen.add(msg)
            _say("warning", msg)
    caught.clear()


def _version_callback(value: bool) -> None:
    if value:
        print(f"racecast {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _main(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_version_callback, is_eager=True
        ),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show full tracebacks instead of one-line errors.")
    ] = False,
) -> None:
    """Who is going to win while the ballots are still being counted."""
    ctx.obj = {"debug": debug}


# ---------------------------------------------------------------------------
# racecast forecast
# ---------------------------------------------------------------------------
_REMAINING_RE = re.compile(r"^\s*([A-Za-z0-9_]+)\s*=\s*(.+?)\s*$")


def _parse_remaining(values: list[str] | None) -> dict[str, float] | None:
    if not values:
        return None
    out: dict[str, float] = {}
    for raw in values:
        m = _REMAINING_RE.match(raw)
        if not m:
            raise ForecastInputError(f"--remaining expects TYPE=N (e.g. late_mail=331000), got {raw!r}")
        t, n = m.group(1), m.group(2).replace("_", "")
        try:
            val = float(n)
        except ValueError:
            raise ForecastInputError(f"--remaining {t}: N must be a number, got {m.group(2)!r}") from None
        if t in out:
            raise ForecastInputError(f"--remaining gives {t!r} twice")
        out[t] = val
    return out


def _as_of(count: Count, release: int | None) -> Count:
    if release is None:
        return count
    ids = [int(r) for r in count.release_ids]
    if release not in ids:
        raise ForecastInputError(f"--as-of {release}: {count.name} has releases {ids[0]}..{ids[-1]}: {ids}")
    return count[: ids.index(release) + 1]


def _forecast_report(fc: Forecast, total_releases: int) -> tuple[str, Table, str]:
    """Heading, table and footer of the readable forecast."""
    pct = round(100 * fc.interval)
    fs = fc.final_share
    last = int(fc.count.release_ids[-1])
    of = f" of {total_releases}" if total_releases != len(fc.count) else ""
    heading = (
        f"{Path(fc.count.name).name}: forecast after release {last} ({len(fc.count)}{of} releases; "
        f"engine {fc.settings.get('engine')}, {fc.settings.get('draws')} draws, rule {fc.rule.name})"
    )
    table = Table()
    table.add_column("candidate")
    table.add_column("votes", justify="right")
    table.add_column(getattr(fc.rule, "win_label", "P(win)"), justify="right")
    table.add_column("final share", justify="right")
    table.add_column(f"{pct}% interval", justify="right")
    for c in fc.win_probability.sort_values(ascending=False).index:
        table.add_row(
            str(c),
            f"{int(fc.count.totals[c]):,}",
            f"{fc.win_probability[c]:.3f}",
            f"{100 * fs.loc[c, 'median']:.1f}%",
            f"{100 * fs.loc[c, 'lower']:.1f}% - {100 * fs.loc[c, 'upper']:.1f}%",
        )
    outstanding = ", ".join(
        f"{t} {float(r.amount):,.0f} {r.unit}" for t, r in fc.remaining.iterrows() if float(r.amount) > 0
    )
    footer = (
        f"P(current leader {fc.leader} does not win): {fc.lead_change_probability:.3f}\n"
        f"outstanding: {outstanding or 'nothing'}"
    )
    if fc.rule_result.called:
        footer += (
            f"\ncalled: {' and '.join(fc.rule_result.called)} (every number above is conditional on it; "
            f"the model alone gave it {fc.rule_result.called_probability:.3f})"
        )
    return heading, table, footer


#: Columns of ``racecast forecast --format csv`` (one row per candidate).
CSV_COLUMNS = (
    "candidate",
    "votes",
    "win_probability",
    "final_share_median",
    "final_share_lower",
    "final_share_upper",
    "final_votes_median",
    "final_votes_lower",
    "final_votes_upper",
    "lead_change_probability",
    "as_of_release",
    "interval",
)


def _forecast_csv(fc: Forecast) -> str:
    buf = _io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    fs, fv = fc.final_share, fc.final_votes
    for c in fc.candidates:
        w.writerow(
            [
                c,
                int(fc.count.totals[c]),
                repr(float(fc.win_probability[c])),
                *(repr(float(fs.loc[c, k])) for k in ("median", "lower", "upper")),
                *(repr(float(fv.loc[c, k])) for k in ("median", "lower", "upper")),
                repr(fc.lead_change_probability),
                int(fc.count.release_ids[-1]),
                repr(fc.interval),
            ]
        )
    return buf.getvalue()


@app.command("forecast")
def forecast_command(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="Count file (CSV, see docs/data-format.md).", show_default=False)
    ],
    remaining: Annotated[
        list[str] | None,
        typer.Option(
            "--remaining",
            "-r",
            metavar="TYPE=N",
            help="Outstanding ballots of a batch type (repeat for several types); overrides the file's "
            "outstanding_<type> columns.",
            show_default=False,
        ),
    ] = None,
    rule: Annotated[
        str,
        typer.Option(
            help="Contest rule: plurality, majority (or majority:0.4), top_two, seats:N, threshold (or threshold:2/3)."
        ),
    ] = "plurality",
    seats: Annotated[
        int | None, typer.Option(help="Seats of a multi-seat contest (the top N win).", show_default=False)
    ] = None,
    called: Annotated[
        list[str] | None,
        typer.Option(
            "--called",
            metavar="NAME",
            help="An outcome called by an authority (repeat for several winners); every number is then "
            "conditional on it.",
            show_default=False,
        ),
    ] = None,
    min_share: Annotated[
        float | None,
        typer.Option(
            "--min-share",
            help="Pool candidates below this share of the votes counted so far into one 'Other' column.",
            show_default=False,
        ),
    ] = None,
    engine: Annotated[
        Engine, typer.Option(help="nuts: PyMC sampler; fast: exact Gaussian grid engine.")
    ] = Engine.nuts,
    seed: Annotated[
        int | None, typer.Option(help="Random seed; the same seed gives the same answer.")
    ] = None,
    draws: Annotated[int, typer.Option(help="Posterior draws, each simulated into one final count.")] = 2000,
    interval: Annotated[float, typer.Option(help="Mass of the reported intervals.")] = 0.9,
    as_of: Annotated[
        int | None,
        typer.Option(
            "--as-of",
            metavar="RELEASE",
            help="Forecast as of this release number (default: the last).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.table,
) -> None:
    """Forecast the final result of a count file."""
    with _reporting(ctx):
        full = read_count(file)
        count = _as_of(full, as_of)
        rem = _parse_remaining(remaining)
        err = _stderr()
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
            )
        if output is OutputFormat.json:
            sys.stdout.write(json.dumps(fc.to_dict(), indent=2) + "\n")
        elif output is OutputFormat.csv:
            sys.stdout.write(_forecast_csv(fc))
        else:
            heading, table, footer = _forecast_report(fc, len(full))
            out = _stdout()
            out.print(heading, soft_wrap=True)
            out.print(table)
            out.print(footer, soft_wrap=True)


# ---------------------------------------------------------------------------
# racecast replay
# ---------------------------------------------------------------------------
class Forecaster(str, Enum):
    """Forecaster replayed by ``racecast replay``."""

    racecast = "racecast"
    leader_wins = "leader_wins"
    counted_split = "counted_split"
    last_release_split = "last_release_split"


def _parse_final(values: list[str] | None) -> dict[str, float] | None:
    if not values:
        return None
    out: dict[str, float] = {}
    for raw in values:
        name, sep, n = raw.rpartition("=")
        if not sep or not name.strip():
            raise ForecastInputError(f"--final expects NAME=VOTES (e.g. 'Karen Bass=506000'), got {raw!r}")
        try:
            out[name.strip()] = float(n.replace("_", "").strip())
        except ValueError:
            raise ForecastInputError(f"--final {name.strip()}: VOTES must be a number, got {n!r}") from None
    return out


#: Columns of ``racecast replay --format csv`` (one row per release and candidate).
REPLAY_CSV_COLUMNS = (
    "release",
    "released_at",
    "batch_type",
    "leader",
    "lead",
    "candidate",
    "win_probability",
    "final_share_median",
    "final_share_lower",
    "final_share_upper",
    "lead_change_probability",
)


def _num(x: Any) -> float | None:
    return None if pd.isna(x) else float(x)


def _replay_records(rp: Replay) -> list[dict[str, Any]]:
    t = rp.table
    out = []
    for k, row in t.iterrows():
        ts = row[("released_at", "")]
        out.append(
            {
                "release": int(k),
                "released_at": None if pd.isna(ts) else pd.Timestamp(ts).isoformat(),
                "batch_type": str(row[("batch_type", "")]),
                "leader": str(row[("leader", "")]),
                "lead": int(row[("lead", "")]),
                "win_probability": {c: _num(row[("win_probability", c)]) for c in rp.count.candidates},
                "final_share": {
                    c: {q: _num(row[(f"final_share_{q}", c)]) for q in ("median", "lower", "upper")}
                    for c in rp.count.candidates
                },
                "lead_change_probability": _num(row[("lead_change_probability", "")]),
                "note": str(row[("note", "")]),
            }
        )
    return out


def _replay_dict(rp: Replay) -> dict[str, Any]:
    score = rp.score().to_dict() if len(rp.forecast_rows) else None
    called = {}
    for level in (0.95, 0.99):
        ts = rp.called_at(level)
        called[f"{level:.2f}"] = None if ts is None else ts.isoformat()
    return {
        "racecast_version": __version__,
        "count": rp.count.name,
        "forecaster": rp.forecaster,
        "winner": str(rp.winner),
        "final_votes": {str(c): float(v) for c, v in rp.final_votes.items()},
        "releases": _replay_records(rp),
        "score": None
        if score is None
        else {k: (v.item() if hasattr(v, "item") else v) for k, v in score.items()},
        "called_at": called,
    }


def _replay_csv(rp: Replay) -> str:
    buf = _io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(REPLAY_CSV_COLUMNS)
    for rec in _replay_records(rp):
        for c in rp.count.candidates:
            share = rec["final_share"][c]
            w.writerow(
                [
                    rec["release"],
                    rec["released_at"] or "",
                    rec["batch_type"],
                    rec["leader"],
                    rec["lead"],
                    c,
                    *("" if v is None else repr(v) for v in (rec["win_probability"][c], *share.values())),
                    "" if rec["lead_change_probability"] is None else repr(rec["lead_change_probability"]),
                ]
            )
    return buf.getvalue()


def _replay_report(rp: Replay) -> tuple[str, Table, str]:
    heading = (
        f"{Path(rp.count.name).name}: replay of {len(rp.count)} releases by {rp.forecaster} "
        f"(each release forecast from the releases up to it only); final winner {rp.winner}"
    )
    table = Table()
    for col, justify in (
        ("release", "right"),
        ("released (UTC)", "left"),
        ("batch type", "left"),
        ("leader", "left"),
        ("lead", "right"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for c in rp.count.candidates:
        table.add_column(f"P({c})", justify="right")
    for rec in _replay_records(rp):
        probs = [rec["win_probability"][c] for c in rp.count.candidates]
        table.add_row(
            str(rec["release"]),
            "" if rec["released_at"] is None else pd.Timestamp(rec["released_at"]).strftime("%Y-%m-%d %H:%M"),
            rec["batch_type"],
            rec["leader"],
            f"{rec['lead']:,}",
            *("-" if p is None else f"{p:.3f}" for p in probs),
        )
    lines = []
    if len(rp.forecast_rows):
        sc = rp.score()
        lines.append(
            f"score over {sc.n_forecasts} forecasts: Brier {sc.brier:.3f}, log loss {sc.log_loss:.3f}, "
            f"interval coverage {sc.coverage:.2f}, confident wrong calls {sc.confident_wrong_calls}"
        )
        for level, k in ((0.95, sc.called_95), (0.99, sc.called_99)):
            ts = rp.called_at(level)
            when = (
                "never"
                if k is None
                else f"release {k}" + ("" if ts is None else f" ({ts:%Y-%m-%d %H:%M} UTC)")
            )
            lines.append(f"P({rp.winner}) stayed >= {level:.2f} from: {when}")
    else:
        lines.append("no release had enough information for a forecast (see the notes with --format json)")
    return heading, table, "\n".join(lines)


@app.command("replay")
def replay_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A finished count file (CSV).", show_default=False)],
    final: Annotated[
        list[str] | None,
        typer.Option(
            "--final",
            metavar="NAME=VOTES",
            help="Final votes of a candidate to score against (repeat for every candidate); default: the "
            "file's last release.",
            show_default=False,
        ),
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot", metavar="OUT.png", help="Save the replay figure (needs matplotlib).", show_default=False
        ),
    ] = None,
    forecaster: Annotated[
        Forecaster, typer.Option(help="racecast or a naive baseline.")
    ] = Forecaster.racecast,
    engine: Annotated[Engine, typer.Option(help="Engine of the racecast forecasts.")] = Engine.fast,
    seed: Annotated[int | None, typer.Option(help="Random seed of the whole replay.")] = None,
    draws: Annotated[int, typer.Option(help="Posterior draws per forecast.")] = 2000,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.table,
) -> None:
    """Replay a finished count: a forecast after every release from what was known then, and its score."""
    with _reporting(ctx):
        count = read_count(file)
        kwargs: dict[str, Any] = {}
        if forecaster is Forecaster.racecast:
            kwargs = {"engine": engine.value, "draws": draws}
        rp = replay(
            count,
            final=_parse_final(final),
            forecaster=forecaster.value,
            seed=seed,
            progress=_stderr().is_terminal,
            **kwargs,
        )
        if plot is not None:
            fig = rp.plot()
            fig.savefig(plot)
        if output is OutputFormat.json:
            sys.stdout.write(json.dumps(_replay_dict(rp), indent=2) + "\n")
        elif output is OutputFormat.csv:
            sys.stdout.write(_replay_csv(rp))
        else:
            heading, table, footer = _replay_report(rp)
            out = _stdout()
            out.print(heading, soft_wrap=True)
            out.print(table)
            out.print(footer, soft_wrap=True)
        if plot is not None:
            _say("note", f"figure saved to {plot}")


# ---------------------------------------------------------------------------
# racecast validate
# ---------------------------------------------------------------------------
@app.command("validate")
def validate_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Count file (CSV) to check.", show_default=False)],
    limit: Annotated[int, typer.Option(help="Stop after this many problems.")] = 100,
) -> None:
    """Check a count file and report every problem found, with file, row and column.

    Exit code 0 when the file is a valid count (warnings such as corrections are
    printed but do not fail it), 2 when it has problems.
    """
    with _reporting(ctx):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RacecastWarning)
            count, problems = _count_problems(file, limit=limit)
        if problems:
            for p in problems:
                _say("error", str(p))
            more = " (stopped at --limit)" if len(problems) >= limit else ""
            _say("error", f"{file}: {len(problems)} problem(s) found{more}")
            raise typer.Exit(EXIT_BAD_INPUT)
        count = read_count(file)  # again, to report its warnings
        assert count is not None
        print(_describe(count))


def _describe(count: Count) -> str:
    out = count.latest_outstanding()
    rem = ", ".join(f"{t} {n:,.0f} (release {r})" for t, (n, r) in out.items()) or "none reported"
    return (
        f"{count.name}: ok, {len(count)} releases, {count.n_candidates} candidates "
        f"({', '.join(count.candidates)}), batch types {', '.join(count.batch_types)}; "
        f"outstanding {count.outstanding_unit}: {rem}"
    )


def main(argv: list[str] | None = None) -> Any:
    """Run the ``racecast`` command line (the console-script entry point)."""
    return app(args=argv, prog_name="racecast")


if __name__ == "__main__":  # pragma: no cover
    main()
