"""racecast speed benchmarks: the targets of issue 5, measured, against a naive PyMC baseline.

Run from the repository root (racecast importable, e.g. installed or with PYTHONPATH=src)::

    python benchmarks/run.py                 # every row, 5 runs each (about 10-15 minutes)
    python benchmarks/run.py --quick         # 3 runs per row and no NUTS-100 row
    python benchmarks/run.py --json out.json

Each row reports the median wall time of ``--runs`` runs (after one warm-up run where the
row is about warm behaviour), the CPU time of the same runs (this process and its child
processes: a better measure than wall time on a shared machine), and the ratio of a naive
baseline's time to racecast's, measured in the same run.

The naive baseline is what a careful first attempt looks like: the batch-type model written
directly in PyMC (type leans, drift and batch variation as parameters, non-centred), sampled
with ``pm.sample()`` at PyMC's defaults (PyMC's own NUTS, two chains of 1,000 tuning + 1,000
draws; PyMC counts half the CPUs as cores, so on two CPUs the chains run one after the
other), followed by the same batch-by-batch simulation in numpy.  It takes
minutes, so it runs ``--baseline-runs`` times (1 by default) and rows about many contests
extrapolate its per-contest time; the table says so.

The NYT 2020 row reads the third-party feed in place from ``../shared/data/nyt2020`` next
to the repository (never copied into it), and the whole-ballot rows the LA County 2022 ballot
from ``../shared/data/la_county_2022``; each row is skipped, with a message, when absent.

``--only ballot,replay`` runs only the named rows (see ``ROWS``) and, with ``--json``, replaces
those rows in an existing results file, keeping the others.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import textwrap
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import racecast
from racecast.evaluation.synthetic import synthetic_count

ROOT = Path(__file__).resolve().parent.parent


def _shared_data() -> Path:
    """``../shared/data`` next to the repository (or next to the worktree folder holding it)."""
    for base in (ROOT.parent, ROOT.parent.parent):
        if (base / "shared" / "data").is_dir():
            return base / "shared" / "data"
    return ROOT.parent / "shared" / "data"


SHARED = _shared_data()
NYT_PATH = SHARED / "nyt2020" / "battleground-state-changes.csv"
LA_BALLOT_PATH = SHARED / "la_county_2022"


# --------------------------------------------------------------------------- timing helpers
def _cpu() -> float:
    """CPU seconds of this process and of its finished child processes."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _measure(fn, runs: int, warmup: bool = True) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``runs`` calls (after one uncounted call when ``warmup``)."""
    if warmup:
        fn()
    walls, cpus = [], []
    for _ in range(runs):
        c, t = _cpu(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t)
        cpus.append(_cpu() - c)
    return walls, cpus


def _quiet(fn):
    def run(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)

    return run


@dataclass
class Row:
    target: str
    goal: str
    value: str  # measured (median wall) or the measured quantity
    cpu: str = ""
    runs: str = ""
    baseline: str = ""
    ratio: str = ""
    note: str = ""
    raw: dict = field(default_factory=dict)
    key: str = ""  # the row's name for --only (set by main)


def _fmt(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


# --------------------------------------------------------------------------- inputs
def la_count() -> racecast.Count:
    return racecast.read_count(racecast.example_path("la_mayor_2022_general"))


def synthetic_ballot(n: int, seed: int = 2024) -> dict[str, racecast.Count]:
    """``n`` synthetic contests (two or three candidates, 2-4 batch types, cut at a random release)."""
    rng = np.random.default_rng(seed)
    return {f"synthetic {i}": synthetic_count(rng, n_candidates=2 + (i % 3 == 0)).count for i in range(n)}


def nyt_counts(path: Path) -> dict[str, racecast.Count]:
    """One count per state of the NYT 2020 feed (``racecast.read_nyt2020`` when available)."""
    states = pd.read_csv(path, usecols=["state"])["state"].unique()
    reader = getattr(racecast, "read_nyt2020", None)
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in states:
            out[s] = reader(path, state=s) if reader is not None else _read_nyt_state(path, s)
    return out


def _read_nyt_state(path: Path, state: str) -> racecast.Count:
    """Fallback reader of one state's feed rows (newest first) as a racecast count file."""
    df = pd.read_csv(path)
    df = df[df["state"] == state].iloc[::-1].reset_index(drop=True)
    names = list(dict.fromkeys([df["leading_candidate_name"].iloc[0], df["trailing_candidate_name"].iloc[0]]))
    votes = {
        n: np.where(
            df["leading_candidate_name"] == n, df["leading_candidate_votes"], df["trailing_candidate_votes"]
        )
        for n in names
    }
    table = pd.DataFrame(
        {
            "release": np.arange(1, len(df) + 1),
            "batch_type": "mixed",
            **votes,
            "outstanding_mixed": np.maximum(df["votes_remaining"].to_numpy(), 0),
        }
    )
    return racecast.read_count(io.StringIO(table.to_csv(index=False)), name=f"{path.name}:{state}")


# --------------------------------------------------------------------------- naive baseline
def naive_forecast(count: racecast.Count, seed: int = 0) -> float:
    """A straightforward PyMC model of the same problem (two candidates), PyMC's default sampler.

    Returns P(first candidate wins).
    """
    import pymc as pm

    batches = count.batches()
    cand = list(count.candidates)
    v = batches[cand].to_numpy(float)
    y = np.log((v[:, 0] + 0.5) / (v[:, 1] + 0.5))
    se2 = 1 / (v[:, 0] + 0.5) + 1 / (v[:, 1] + 0.5)
    remaining = {t: a for t, (a, _) in count.latest_outstanding().items()}
    types = list(dict.fromkeys([*batches["batch_type"], *remaining]))
    t_idx = np.array([types.index(t) for t in batches["batch_type"]])
    size = v.sum(1)
    counted = np.bincount(t_idx, weights=size, minlength=len(types))
    ratio = 1.0
    if count.has_ballots:
        last = np.flatnonzero(np.isfinite(count.ballots_counted))[-1]
        ratio = count.votes[last].sum() / count.ballots_counted[last]
    rem_votes = np.array([remaining.get(t, 0.0) * ratio for t in types])
    total = counted + rem_votes
    x = np.zeros(len(y))
    run = np.zeros(len(types))
    for i, (t, n) in enumerate(zip(t_idx, size, strict=False)):
        x[i] = (run[t] + n / 2) / total[t] - 0.5
        run[t] += n
    with pm.Model():
        mu = pm.Normal("mu", 0.0, 2.0)
        sigma_type = pm.HalfNormal("sigma_type", 0.7)
        sigma_batch = pm.HalfNormal("sigma_batch", 0.3)
        z = pm.Normal("z", 0.0, 1.0, shape=len(types))
        alpha = pm.Deterministic("alpha", mu + sigma_type * z)
        delta = pm.Normal("delta", 0.0, 0.3, shape=len(types))
        pm.Normal("y", alpha[t_idx] + x * delta[t_idx], pm.math.sqrt(2 * sigma_batch**2 + se2), observed=y)
        idata = pm.sample(random_seed=seed, progressbar=False, compute_convergence_checks=False)
    post = idata.posterior
    a = post["alpha"].to_numpy().reshape(-1, len(types))
    d = post["delta"].to_numpy().reshape(-1, len(types))
    sb = post["sigma_batch"].to_numpy().ravel()
    rng = np.random.default_rng(seed)
    first = np.full(a.shape[0], count.votes[-1, 0], float)
    second = np.full(a.shape[0], count.votes[-1, 1], float)
    typical = np.median(size)
    for t, rv in enumerate(rem_votes):
        if rv <= 0:
            continue
        m = int(np.clip(round(rv / typical), 1, 100))
        xs = (counted[t] + (np.arange(m) + 0.5) * rv / m) / total[t] - 0.5
        lo = (
            a[:, t, None]
            + xs * d[:, t, None]
            + np.sqrt(2) * sb[:, None] * rng.standard_normal((a.shape[0], m))
        )
        n = np.full(lo.shape, int(rv / m))
        got = rng.binomial(n, 1 / (1 + np.exp(-lo))).sum(1)
        first += got
        second += n.sum(1) - got
    return float((first > second).mean())


# --------------------------------------------------------------------------- rows
def row_warm_nuts(runs: int, baseline: dict) -> Row:
    count = la_count()[:9]
    walls, cpus = _measure(_quiet(lambda: racecast.forecast(count, seed=1, engine="nuts")), runs)
    med = statistics.median(walls)
    return Row(
        "warm NUTS forecast: LA 2022 after release 9 (9 releases, 4 types, 2 candidates)",
        "<= 1 s",
        _fmt(med),
        _fmt(statistics.median(cpus)),
        f"{runs}",
        _fmt(baseline["la"]),
        f"{baseline['la'] / med:,.0f}x",
        raw={"wall": walls, "cpu": cpus},
    )


def row_fast_per_contest(runs: int, baseline: dict) -> Row:
    la = la_count()
    contests = [la[:k] for k in range(3, len(la) + 1)] + list(synthetic_ballot(20, seed=7).values())
    run = _quiet(lambda: [racecast.forecast(c, seed=1, engine="fast") for c in contests])
    walls, cpus = _measure(run, runs)
    per = [w / len(contests) for w in walls]
    med = statistics.median(per)
    return Row(
        f"fast engine, per contest ({len(contests)} contests: LA 2022 releases 3-10, 20 synthetic)",
        "<= 20 ms",
        _fmt(med),
        _fmt(statistics.median(cpus) / len(contests)),
        f"{runs}",
        _fmt(baseline["la"]),
        f"{baseline['la'] / med:,.0f}x",
        note="baseline: one naive fit of LA after release 9",
        raw={"wall_per_contest": per},
    )


def row_agreement(draws: int, seeds: int = 3) -> Row:
    """Largest fast-vs-NUTS gap over LA 2022 and synthetic contests, net of Monte Carlo noise.

    Each engine runs ``seeds`` times per contest; the gap is between the two engines'
    seed means, and its Monte Carlo sd is estimated from the seed-to-seed spread
    (wide forecasts' interval ends move by a tenth of a point or more from seed to
    seed even with 100,000 draws).
    """
    la = la_count()
    contests = {f"LA after {k}": la[:k] for k in range(3, len(la) + 1)}
    contests.update(synthetic_ballot(10, seed=2022))
    ends = ["lower", "upper"]
    gap_p = gap_s = sd_p = sd_s = 0.0
    worst = ""
    for name, c in contests.items():
        runs = {}
        for engine, offset in (("nuts", 0), ("fast", 100)):
            fcs = [
                _quiet(racecast.forecast)(c, seed=offset + i, engine=engine, draws=draws)
                for i in range(seeds)
            ]
            runs[engine] = (
                np.array([f.win_probability.to_numpy() for f in fcs]),
                np.array([100 * f.final_share[ends].to_numpy() for f in fcs]),
            )
        (pn, sn), (pf, sf) = runs["nuts"], runs["fast"]

        def mc_sd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return np.sqrt(a.var(axis=0, ddof=1) / len(a) + b.var(axis=0, ddof=1) / len(b))

        gp = np.abs(pn.mean(0) - pf.mean(0))
        gs = np.abs(sn.mean(0) - sf.mean(0))
        if gs.max() > gap_s:
            worst = name
        gap_p, gap_s = max(gap_p, float(gp.max())), max(gap_s, float(gs.max()))
        sd_p, sd_s = max(sd_p, float(mc_sd(pn, pf).max())), max(sd_s, float(mc_sd(sn, sf).max()))
    return Row(
        f"fast vs NUTS ({len(contests)} contests: LA 2022 releases 3-10, 10 synthetic)",
        "P(win) within 0.02, interval ends within 0.5 pts",
        f"max {gap_p:.3f}; max {gap_s:.2f} pts",
        runs=f"{seeds} seeds x 2 engines",
        note=f"means of {seeds} seeds x {draws:,} draws per engine; Monte Carlo sd of a gap "
        f"<= {sd_p:.3f} / {sd_s:.2f} pts; widest interval gap: {worst}",
        raw={
            "max_win_gap": gap_p,
            "max_interval_gap_points": gap_s,
            "max_mc_sd_win": sd_p,
            "max_mc_sd_interval_points": sd_s,
        },
    )


COLD = textwrap.dedent(
    """
    import warnings, racecast
    warnings.simplefilter("ignore")
    count = racecast.read_count(racecast.example_path("la_mayor_2022_general"))
    racecast.forecast(count[:9], seed=1, engine={engine!r})
    """
)


def _subprocess(code: str) -> None:
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def row_cold(runs: int, engine: str, baseline: dict) -> Row:
    walls, cpus = _measure(lambda: _subprocess(COLD.format(engine=engine)), runs, warmup=True)
    med = statistics.median(walls)
    base = baseline.get("cold")
    return Row(
        f"cold start: fresh process, import + first {engine.upper() if engine == 'nuts' else engine} "
        "forecast (LA)",
        "<= 10 s",
        _fmt(med),
        _fmt(statistics.median(cpus)),
        f"{runs}",
        _fmt(base) if base else "",
        f"{base / med:,.0f}x" if base else "",
        note="warm-up run excluded: it compiles the NUTS kernel once per installation"
        if engine == "nuts"
        else "",
        raw={"wall": walls, "cpu": cpus},
    )


def row_many(runs: int, engine: str, baseline: dict) -> Row:
    ballot = synthetic_ballot(100)
    run = _quiet(lambda: racecast.forecast_many(ballot, seed=1, engine=engine, progress=False))
    walls, cpus = _measure(run, runs, warmup=engine == "nuts")
    med = statistics.median(walls)
    base = 100 * baseline["la"]
    return Row(
        f"100 contests, {engine} engine (forecast_many, {os.cpu_count()} processes)",
        "<= 10 s" if engine == "fast" else "<= 120 s",
        _fmt(med),
        _fmt(statistics.median(cpus)),
        f"{runs}",
        f"~{_fmt(base)}",
        f"~{base / med:,.0f}x",
        note="baseline extrapolated: 100 x one naive fit",
        raw={"wall": walls, "cpu": cpus},
    )


def row_nyt(runs: int, baseline: dict, wander_sd: float | None = None) -> Row | None:
    if not NYT_PATH.exists():
        print(
            f"NYT 2020 row skipped: {NYT_PATH} not found (the community scrape of the NYT 2020 results "
            "feed, battleground-state-changes.csv, belongs in ../shared/data/nyt2020)",
            file=sys.stderr,
        )
        return None
    states = nyt_counts(NYT_PATH)
    prefixes = {f"{s} #{k}": c[:k] for s, c in states.items() for k in range(1, len(c) + 1)}
    priors = racecast.Priors(wander_sd=wander_sd)
    run = _quiet(
        lambda: racecast.forecast_many(prefixes, seed=1, engine="fast", progress=False, priors=priors)
    )
    walls, cpus = _measure(run, runs, warmup=False)
    med = statistics.median(walls)
    base = len(prefixes) * baseline["la"]
    with_wander = f", with wander_sd {wander_sd:g}" if wander_sd else ""
    return Row(
        f"NYT 2020 replay: all {len(prefixes)} battleground releases, fast engine "
        f"(forecast_many){with_wander}",
        "<= 15 s",
        _fmt(med),
        _fmt(statistics.median(cpus)),
        f"{runs}",
        f"~{_fmt(base)}",
        f"~{base / med:,.0f}x",
        note=f"baseline extrapolated: {len(prefixes)} x one naive fit",
        raw={"wall": walls, "cpu": cpus},
    )


def _la_ballot() -> racecast.Ballot | None:
    if not (LA_BALLOT_PATH / "results.csv").exists():
        print(
            f"whole-ballot rows skipped: {LA_BALLOT_PATH} not found (the LA County 2022 ballot belongs in "
            "../shared/data/la_county_2022)",
            file=sys.stderr,
        )
        return None
    return racecast.read_ballot(LA_BALLOT_PATH)


def _modelled(ballot: racecast.Ballot) -> int:
    """Contests of a ballot that forecast_ballot models (contested, with votes)."""
    fc = _quiet(racecast.forecast_ballot)(ballot, seed=1, engine="fast", processes=1, progress=False)
    return int(fc.contests["status"].isin(["called", "likely", "too close to call", "forecast"]).sum())


def row_ballot(runs: int, processes: int, baseline: dict, shared: bool = False) -> Row | None:
    """The whole LA County 2022 ballot after its first release, fast engine, ``forecast_ballot``.

    ``shared``: with the model's scales learned across the contests first (``shared_scales=True``).
    """
    ballot = _la_ballot()
    if ballot is None:
        return None
    first = ballot[:1]
    n = _modelled(first)
    run = _quiet(
        lambda: racecast.forecast_ballot(
            first, seed=1, engine="fast", processes=processes, progress=False, shared_scales=shared
        )
    )
    walls, cpus = _measure(run, runs, warmup=processes == 1)
    med = statistics.median(walls)
    base = n * baseline["la"]
    return Row(
        f"LA County 2022 ballot after release 1: {len(first.contests)} contests ({n} modelled), fast "
        f"engine (forecast_ballot, {processes} process{'es' if processes > 1 else ''}"
        f"{', scales shared across contests' if shared else ''})",
        "<= 10 s (aim 3 s)",
        _fmt(med),
        _fmt(statistics.median(cpus)),
        f"{runs}",
        f"~{_fmt(base)}",
        f"~{base / med:,.0f}x",
        note=f"baseline extrapolated: {n} x one naive fit; a fresh process pool per run"
        if processes > 1
        else f"baseline extrapolated: {n} x one naive fit",
        raw={"wall": walls, "cpu": cpus, "modelled": n},
    )


def row_replay(runs: int, processes: int, baseline: dict) -> Row | None:
    """The whole LA County 2022 ballot replayed release by release (``replay_ballot``), fast engine."""
    from racecast.evaluation.ballot_replay import replay_ballot

    ballot = _la_ballot()
    if ballot is None:
        return None
    out: dict = {}

    def run() -> None:
        out["replay"] = _quiet(replay_ballot)(ballot, seed=1, engine="fast", processes=processes)

    walls, cpus = _measure(run, runs, warmup=False)
    n = int(out["replay"].contests["forecasts"].sum())
    med = statistics.median(walls)
    base = n * baseline["la"]
    return Row(
        f"LA County 2022 ballot replay: {len(ballot.contests)} contests x {len(ballot.release_ids) - 1} "
        f"releases ({n:,} forecasts), fast engine (replay_ballot, {processes} processes)",
        "<= 2 min",
        _fmt(med),
        _fmt(statistics.median(cpus)),
        f"{runs}",
        f"~{_fmt(base)}",
        f"~{base / med:,.0f}x",
        note=f"baseline extrapolated: {n:,} x one naive fit",
        raw={"wall": walls, "cpu": cpus, "forecasts": n},
    )


def measure_baseline(runs: int) -> dict:
    """The naive PyMC pipeline: warm (in this process) and cold (fresh process) on LA after release 9."""
    la9 = la_count()[:9]
    walls, cpus = _measure(_quiet(lambda: naive_forecast(la9)), runs, warmup=False)
    code = textwrap.dedent(
        f"""
        import sys, warnings
        sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
        warnings.simplefilter("ignore")
        import run
        run.naive_forecast(run.la_count()[:9])
        """
    )
    cold, _ = _measure(lambda: _subprocess(code), 1, warmup=False)
    return {
        "la": statistics.median(walls),
        "la_cpu": statistics.median(cpus),
        "la_runs": runs,
        "cold": cold[0],
        "walls": walls,
    }


# --------------------------------------------------------------------------- report
def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for mod in ("numpy", "pandas", "pymc", "nutpie", "numba", "arviz"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            versions[mod] = "-"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "racecast": racecast.__version__,
        **versions,
    }


def table(rows: list[Row]) -> str:
    head = ["target", "goal", "racecast (median wall)", "CPU", "runs", "naive PyMC", "ratio", "note"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append(
            "| " + " | ".join([r.target, r.goal, r.value, r.cpu, r.runs, r.baseline, r.ratio, r.note]) + " |"
        )
    return "\n".join(lines)


#: Every row, in table order: ``(key, row(args, runs, baseline) -> Row | None)``.
ROWS = (
    ("nuts", lambda a, runs, b: row_warm_nuts(runs, b)),
    ("fast", lambda a, runs, b: row_fast_per_contest(runs, b)),
    ("agreement", lambda a, runs, b: row_agreement(a.agreement_draws)),
    ("cold-nuts", lambda a, runs, b: row_cold(runs, "nuts", b)),
    ("cold-fast", lambda a, runs, b: row_cold(runs, "fast", {})),
    ("many-fast", lambda a, runs, b: row_many(runs, "fast", b)),
    ("many-nuts", lambda a, runs, b: None if a.quick else row_many(runs, "nuts", b)),
    ("nyt", lambda a, runs, b: row_nyt(runs, b)),
    ("nyt-wander", lambda a, runs, b: row_nyt(runs, b, wander_sd=0.3)),
    ("ballot-1", lambda a, runs, b: row_ballot(runs, 1, b)),
    ("ballot-2", lambda a, runs, b: row_ballot(runs, 2, b)),
    ("ballot-2-shared", lambda a, runs, b: row_ballot(runs, 2, b, shared=True)),
    ("replay", lambda a, runs, b: row_replay(a.replay_runs, 2, b)),
)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="timed runs per row (median reported)")
    ap.add_argument(
        "--baseline-runs", type=int, default=1, help="runs of the naive PyMC baseline (minutes each)"
    )
    ap.add_argument(
        "--agreement-draws",
        type=int,
        default=100_000,
        help="draws per engine in the agreement row (enough that Monte Carlo noise does not decide it)",
    )
    ap.add_argument("--replay-runs", type=int, default=3, help="timed runs of the whole-ballot replay")
    ap.add_argument("--quick", action="store_true", help="3 runs per row, skip the 100-contest NUTS row")
    ap.add_argument(
        "--only", help=f"comma-separated rows to run (of {', '.join(k for k, _ in ROWS)}); default: all"
    )
    ap.add_argument(
        "--reuse-baseline",
        action="store_true",
        help="take the naive baseline recorded in the --json file instead of measuring it again",
    )
    ap.add_argument("--json", type=Path, help="also write the results here (with --only: replace those rows)")
    args = ap.parse_args(argv)
    known = [k for k, _ in ROWS]
    args.only = known if args.only is None else [k.strip() for k in args.only.split(",")]
    unknown = set(args.only) - set(known)
    if unknown:
        ap.error(f"--only: unknown rows {sorted(unknown)}; rows: {known}")
    if args.reuse_baseline and not (args.json and args.json.exists()):
        ap.error("--reuse-baseline needs an existing --json results file")
    return args


def _write(path: Path, record: dict, rows: list[Row], only: list[str]) -> None:
    """Write the results; rows not run this time are kept from the file, in table order."""
    new = {r.key: r.__dict__ for r in rows}
    if path.exists() and len(only) < len(ROWS):
        old = json.loads(path.read_text())
        kept = {r.get("key") or _key_of(r["target"]): r for r in old["rows"]}
        kept.update(new)
        new = {k: {**kept[k], "key": k} for k, _ in ROWS if k in kept}
        record = {**old, **record, "rows": list(new.values())}
    else:
        record = {**record, "rows": list(new.values())}
    path.write_text(json.dumps(record, indent=2))


def _key_of(target: str) -> str:
    """The key of a row recorded before rows had keys, from its target text."""
    for prefix, key in (
        ("warm NUTS", "nuts"),
        ("fast engine, per contest", "fast"),
        ("fast vs NUTS", "agreement"),
        ("cold start: fresh process, import + first NUTS", "cold-nuts"),
        ("cold start", "cold-fast"),
        ("100 contests, fast", "many-fast"),
        ("100 contests, nuts", "many-nuts"),
        ("NYT 2020", "nyt"),
    ):
        if target.startswith(prefix):
            return key
    return target


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    runs = 3 if args.quick else args.runs
    info = machine()
    load_start = os.getloadavg()
    print(f"machine: {info}\nload average at start: {load_start}", file=sys.stderr)
    started = time.perf_counter()
    if args.reuse_baseline:
        baseline = json.loads(args.json.read_text())["baseline"]
    else:
        baseline = measure_baseline(args.baseline_runs)
    print(f"naive baseline: {baseline}", file=sys.stderr)
    rows = []
    for key, make in ROWS:
        if key in args.only:
            row = make(args, runs, baseline)
            if row is not None:
                row.key = key
                rows.append(row)
                print(f"{key}: {row.value} (CPU {row.cpu})", file=sys.stderr)
    load_end = os.getloadavg()
    print(table(rows))
    print(
        f"\nnaive PyMC baseline: LA after release 9, {baseline['la_runs']} run(s) "
        f"(median {_fmt(baseline['la'])}, CPU {_fmt(baseline['la_cpu'])}); cold {_fmt(baseline['cold'])} "
        f"in a fresh process.\nload average (1, 5, 15 min) at start {load_start}, at end {load_end}; "
        f"{time.perf_counter() - started:.0f} s in all.\nmachine: {info}"
    )
    if args.json:
        record = {"machine": info, "load_start": load_start, "load_end": load_end, "baseline": baseline}
        _write(args.json, record, rows, args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
