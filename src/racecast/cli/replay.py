"""``racecast replay FILE``: a forecast after every release of a finished count, and its score."""

from __future__ import annotations

import csv
import io
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from .._version import __version__
from ..errors import ForecastInputError
from ..evaluation.replay import Replay, replay
from ..io import read_count
from ..settings import DEFAULT_DRAWS
from ._options import (
    DEFAULT_ENGINE_CHOICE,
    DrawsOption,
    EngineOption,
    ExampleOption,
    FormatOption,
    PriorsOption,
    SeedOption,
    priors_kwargs,
    source_path,
)
from ._output import OutputFormat, Report, reporting, say, stderr_console, write_output

__all__ = ["REPLAY_CSV_COLUMNS", "Forecaster", "replay_command"]


class Forecaster(StrEnum):
    """Forecaster replayed by ``racecast replay``."""

    racecast = "racecast"
    leader_wins = "leader_wins"
    counted_split = "counted_split"
    last_release_split = "last_release_split"


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

_FinalOption = Annotated[
    list[str] | None,
    typer.Option(
        "--final",
        metavar="NAME=VOTES",
        help="Final votes of a candidate to score against (repeat for every candidate); default: the "
        "file's last release.",
        show_default=False,
    ),
]
_PlotOption = Annotated[
    Path | None,
    typer.Option(
        "--plot", metavar="OUT.png", help="Save the replay figure (needs matplotlib).", show_default=False
    ),
]
_ForecasterOption = Annotated[Forecaster, typer.Option(help="racecast or a naive baseline.")]


def _parse_final(values: list[str] | None) -> dict[str, float] | None:
    if not values:
        return None
    out: dict[str, float] = {}
    for raw in values:
        name, sep, n = raw.rpartition("=")
        if not sep or not name.strip():
            raise ForecastInputError(f"--final expects NAME=VOTES (e.g. 'Karen Bass=509944'), got {raw!r}")
        try:
            out[name.strip()] = float(n.replace("_", "").strip())
        except ValueError:
            raise ForecastInputError(f"--final {name.strip()}: VOTES must be a number, got {n!r}") from None
    return out


def _num(x: Any) -> float | None:
    return None if pd.isna(x) else float(x)


def _replay_records(rp: Replay) -> list[dict[str, Any]]:
    out = []
    for k, row in rp.table.iterrows():
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
    buf = io.StringIO()
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


def _score_lines(rp: Replay) -> list[str]:
    if not len(rp.forecast_rows):
        return ["no release had enough information for a forecast (see the notes with --format json)"]
    sc = rp.score()
    lines = [
        (
            f"score over {sc.n_forecasts} forecasts: Brier {sc.brier:.3f}, log loss {sc.log_loss:.3f}, "
            f"interval coverage {sc.coverage:.2f}, confident wrong calls {sc.confident_wrong_calls}"
        )
    ]
    for level, k in ((0.95, sc.called_95), (0.99, sc.called_99)):
        ts = rp.called_at(level)
        when = (
            "never" if k is None else f"release {k}" + ("" if ts is None else f" ({ts:%Y-%m-%d %H:%M} UTC)")
        )
        lines.append(f"P({rp.winner}) stayed >= {level:.2f} from: {when}")
    return lines


def _replay_report(rp: Replay) -> Report:
    heading = (
        f"{Path(rp.count.name).name}: replay of {len(rp.count)} releases by {rp.forecaster} "
        f"(each release forecast from the releases up to it only); final winner {rp.winner}"
    )
    table = Table()
    table.add_column("release", justify="right")
    table.add_column("released (UTC)")
    table.add_column("batch type")
    table.add_column("leader")
    table.add_column("lead", justify="right")
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
    return heading, table, "\n".join(_score_lines(rp))


def replay_command(
    ctx: typer.Context,
    file: Annotated[
        Path | None, typer.Argument(help="A finished count file (CSV); or use --example.", show_default=False)
    ] = None,
    final: _FinalOption = None,
    plot: _PlotOption = None,
    forecaster: _ForecasterOption = Forecaster.racecast,
    engine: EngineOption = DEFAULT_ENGINE_CHOICE,
    seed: SeedOption = None,
    draws: DrawsOption = DEFAULT_DRAWS,
    priors: PriorsOption = None,
    output: FormatOption = OutputFormat.table,
    example: ExampleOption = None,
) -> None:
    """Replay a finished count: a forecast after every release from what was known then, and its score."""
    path = source_path(file, example, "file")
    with reporting(ctx):
        count = read_count(path)
        kwargs: dict[str, Any] = {}
        if forecaster is Forecaster.racecast:
            kwargs = {"engine": engine.value, "draws": draws, **priors_kwargs(priors)}
        elif priors is not None:
            raise ForecastInputError(
                f"--priors sets racecast's priors; --forecaster {forecaster.value} does not use them"
            )
        rp = replay(
            count,
            final=_parse_final(final),
            forecaster=forecaster.value,
            seed=seed,
            progress=stderr_console().is_terminal,
            **kwargs,
        )
        if plot is not None:
            rp.plot().savefig(plot)
        write_output(
            output,
            as_json=lambda: _replay_dict(rp),
            as_csv=lambda: _replay_csv(rp),
            as_report=lambda: _replay_report(rp),
        )
        if plot is not None:
            say("note", f"figure saved to {plot}")
