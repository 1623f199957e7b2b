"""Priors from history: how batch types leaned in earlier, completed counts.

On election night the most important unknown is how the type not yet counted
(late mail, say) will lean.  :func:`prior_from` learns it from one or more
completed counts -- the same contest in an earlier election, or a primary of the
same race -- and :func:`racecast.forecast` uses it with ``prior=``.

What is estimated
-----------------
For each batch type ``t`` of a completed count and each pair of *sides* ``a, b``
(candidates mapped between elections with ``sides=``), the log-odds of ``a`` vs
``b`` among all of the type's counted votes, relative to the contest centre:

.. math::

    \\Delta_t(a, b) = L_t(a, b) - \\frac{1}{T} \\sum_{t'} L_{t'}(a, b), \\qquad
    L_t(a, b) = \\log \\frac{v_{ta} + 1/2}{v_{tb} + 1/2},

where ``v_ta`` sums the votes of the candidates mapped to side ``a`` in the
type's batches and the centre is the unweighted mean over the ``T`` types the
count has.  This is the quantity the model's hierarchy calls ``alpha_t - mu``
(a type's lean relative to the contest-wide mean of the type leans), so the
prior replaces that term for the types it covers (see ``docs/priors.md``).

Its sampling sd (delta method, Poisson votes) is tiny for real contests; what
makes the prior uncertain is that the next election is a different election.
That change is the **inflation**: the sd (log-odds) of how much a type's lean may
move between a history count and the contest being forecast, added in
quadrature.  With several history counts they are pooled as exchangeable
elections (random effects with between-election sd ``inflation / sqrt(2)``):
the prior sd never falls below ``inflation / sqrt(2)`` however many counts are
given, and equals ``sqrt(sampling_sd^2 + inflation^2)`` for one count.

Not to be confused with :class:`racecast.Priors`, the prior *scales* of the model
(``sigma_type``, ``sigma_batch``, ...); a :class:`Prior` is information about
particular batch types.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .count import Count
from .errors import ForecastInputError, HistoryWarning

__all__ = ["DEFAULT_INFLATION", "Prior", "prior_from"]

#: Default between-election change of a type's lean, sd in log-odds (about 6
#: share points near 50%).  A judgement, not an estimate: about half the typical
#: spread between types the default model expects (``sigma_type`` ~ 0.5 on the
#: score scale, ~0.5-0.7 log-odds), i.e. history is taken to say more than
#: nothing but much less than a batch of the type itself.
DEFAULT_INFLATION = 0.25

_FORMAT = "racecast.Prior"
_FORMAT_VERSION = 1
_Z90 = 1.6448536269514722


@dataclass(frozen=True, eq=False)
class Prior:
    """How batch types leaned in earlier counts, as a prior for a new forecast.

    Built by :func:`prior_from` (or :meth:`from_dict`).  Immutable; print it for a
    table, save it with :meth:`to_dict` (JSON-serialisable).

    Attributes
    ----------
    types : tuple of str
        Batch types the prior covers.
    sides : tuple of str
        Sides, in order; the last is the reference side of :attr:`shift`.
    shift : numpy.ndarray
        ``(types, sides)`` prior mean log-odds shift of each side vs the last
        side, in each type relative to the contest centre (the last column is 0).
        With two sides, ``shift[t, 0]`` is "how much more the first side gets in
        type ``t`` than in the contest as a whole", in log-odds.
    sd : numpy.ndarray
        ``(types,)`` prior sd of the log-odds shift between any two sides
        (sampling sd and between-election change).
    candidate_sides : dict
        Candidate name -> side, for the history counts and the contest to
        forecast; a candidate not listed is its own side.
    inflation : float
        Between-election change used (log-odds sd).
    history : tuple of dict
        What each history count said: its name, releases, votes by type and
        side, its own shifts and their sampling sd.

    Examples
    --------
    >>> import racecast
    >>> primary = racecast.read_count(racecast.example_path("la_mayor_2022_primary"))
    >>> prior = racecast.prior_from(primary, sides={"Karen Bass": "progressive", "Rick Caruso": "centrist"})
    >>> prior.types, prior.sides
    (('vote_center', 'late_mail'), ('progressive', 'centrist'))
    >>> round(float(prior.log_odds_shift("progressive", "centrist").loc["late_mail", "mean"]), 3)
    0.309
    """

    types: tuple[str, ...]
    sides: tuple[str, ...]
    shift: np.ndarray
    sd: np.ndarray
    candidate_sides: Mapping[str, str] = field(default_factory=dict)
    inflation: float = DEFAULT_INFLATION
    history: tuple[dict[str, Any], ...] = ()

    def __post_init__(self) -> None:
        t_n, s_n = len(self.types), len(self.sides)
        shift = np.array(self.shift, dtype=float)
        sd = np.array(self.sd, dtype=float).reshape(-1)
        if len(set(self.types)) != t_n or len(set(self.sides)) != s_n:
            raise ForecastInputError("a Prior's types and sides must be distinct")
        if s_n < 2:
            raise ForecastInputError(f"a Prior needs at least two sides, got {list(self.sides)}")
        if shift.shape != (t_n, s_n) or sd.shape != (t_n,):
            raise ForecastInputError(
                f"a Prior with {t_n} types and {s_n} sides needs shift of shape {(t_n, s_n)} and sd of "
                f"shape {(t_n,)}, got {shift.shape} and {sd.shape}"
            )
        if not np.isfinite(shift).all() or not (np.isfinite(sd).all() and (sd > 0).all()):
            raise ForecastInputError("a Prior's shifts must be finite and its sds finite and > 0")
        if not (math.isfinite(self.inflation) and self.inflation > 0):
            raise ForecastInputError(f"inflation must be a finite number > 0, got {self.inflation!r}")
        shift = shift - shift[:, -1:]
        shift.setflags(write=False)
        sd.setflags(write=False)
        object.__setattr__(self, "shift", shift)
        object.__setattr__(self, "sd", sd)
        object.__setattr__(self, "candidate_sides", dict(self.candidate_sides))
        object.__setattr__(self, "types", tuple(self.types))
        object.__setattr__(self, "sides", tuple(self.sides))

    # ------------------------------------------------------------ views
    def log_odds_shift(self, side_a: str, side_b: str, *, interval: float = 0.9) -> pd.DataFrame:
        """Prior of the log-odds shift of ``side_a`` vs ``side_b`` by batch type.

        Parameters
        ----------
        side_a, side_b
            Two of :attr:`sides`.
        interval
            Mass of the reported normal interval.

        Returns
        -------
        pandas.DataFrame
            Indexed by batch type: ``mean``, ``sd``, ``lower``, ``upper``, and
            ``points`` (the mean in share points at an even contest, ``100 *
            (expit(mean) - 0.5)``).

        Examples
        --------
        >>> import racecast
        >>> p = racecast.Prior(types=("late_mail",), sides=("A", "B"), shift=[[0.4, 0.0]], sd=[0.3])
        >>> p.log_odds_shift("A", "B")[["mean", "sd"]].round(2).to_dict("records")
        [{'mean': 0.4, 'sd': 0.3}]
        """
        for s in (side_a, side_b):
            if s not in self.sides:
                raise ForecastInputError(f"unknown side {s!r}; this prior's sides are {list(self.sides)}")
        if not 0 < interval < 1:
            raise ForecastInputError(f"interval must be in (0, 1), got {interval!r}")
        z = _normal_quantile(0.5 + interval / 2)
        ia, ib = self.sides.index(side_a), self.sides.index(side_b)
        mean = self.shift[:, ia] - self.shift[:, ib]
        sd = self.sd if ia != ib else np.zeros_like(self.sd)
        return pd.DataFrame(
            {
                "mean": mean,
                "sd": sd,
                "lower": mean - z * sd,
                "upper": mean + z * sd,
                "points": 100.0 * (1.0 / (1.0 + np.exp(-mean)) - 0.5),
            },
            index=pd.Index(self.types, name="batch_type"),
        )

    def __str__(self) -> str:
        names = ", ".join(h.get("count", "?") for h in self.history) or "given directly"
        lines = [
            f"Prior from history ({names}); between-election change (inflation) {self.inflation:g} log-odds",
        ]
        ref = self.sides[-1]
        for a in self.sides[:-1]:
            tab = self.log_odds_shift(a, ref)
            width = max(len(t) for t in self.types + ("batch type",))
            lines.append(
                f"{'batch type':<{width}}  log-odds shift of {a} vs {ref} relative to the contest (sd, 90% interval)"
            )
            for t, r in tab.iterrows():
                lines.append(
                    f"{t:<{width}}  {r['mean']:+.3f} (sd {r['sd']:.3f}, [{r['lower']:+.3f}, {r['upper']:+.3f}]); "
                    f"{r['points']:+.1f} share points at 50%"
                )
        mapped = {c: s for c, s in self.candidate_sides.items() if c != s}
        if mapped:
            lines.append("sides: " + ", ".join(f"{c} -> {s}" for c, s in mapped.items()))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Prior types {list(self.types)}, sides {list(self.sides)}, inflation {self.inflation:g}>"

    # ------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict; :meth:`from_dict` reads it back.

        Examples
        --------
        >>> import json, racecast
        >>> p = racecast.Prior(types=("late_mail",), sides=("A", "B"), shift=[[0.4, 0.0]], sd=[0.3])
        >>> racecast.Prior.from_dict(json.loads(json.dumps(p.to_dict()))).to_dict() == p.to_dict()
        True
        """
        return {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "types": list(self.types),
            "sides": list(self.sides),
            "shift": {
                t: {s: float(self.shift[i, j]) for j, s in enumerate(self.sides)}
                for i, t in enumerate(self.types)
            },
            "sd": {t: float(self.sd[i]) for i, t in enumerate(self.types)},
            "candidate_sides": dict(self.candidate_sides),
            "inflation": float(self.inflation),
            "history": json.loads(json.dumps(list(self.history))),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Prior:
        """Rebuild a prior from :meth:`to_dict` output.

        Raises
        ------
        ForecastInputError
            When the dict is not a saved prior or is incomplete.
        """
        if not isinstance(data, Mapping) or data.get("format") != _FORMAT:
            raise ForecastInputError(
                f"not a saved racecast prior (expected format {_FORMAT!r}); build one with racecast.prior_from"
            )
        if data.get("format_version") != _FORMAT_VERSION:
            raise ForecastInputError(
                f"saved prior has format_version {data.get('format_version')!r}; this racecast reads "
                f"version {_FORMAT_VERSION}"
            )
        try:
            types = [str(t) for t in data["types"]]
            sides = [str(s) for s in data["sides"]]
            shift = [[float(data["shift"][t][s]) for s in sides] for t in types]
            sd = [float(data["sd"][t]) for t in types]
            inflation = float(data["inflation"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ForecastInputError(f"saved prior is incomplete or malformed: {exc!r}") from None
        return cls(
            types=tuple(types),
            sides=tuple(sides),
            shift=np.array(shift),
            sd=np.array(sd),
            candidate_sides={str(k): str(v) for k, v in dict(data.get("candidate_sides", {})).items()},
            inflation=inflation,
            history=tuple(dict(h) for h in data.get("history", [])),
        )

    # ------------------------------------------------------------ model hook
    def model_arrays(
        self,
        candidates: Sequence[str],
        types: Sequence[str],
        *,
        members: Mapping[str, Sequence[str]] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The prior in the model's coordinates for one contest.

        Parameters
        ----------
        candidates
            The contest's candidates (each must map to one of :attr:`sides`).
        types
            The batch types the model carries.
        members
            For a bloc pooling several candidates (``forecast(min_share=...)``),
            the names it pools: the bloc takes their side when they all share one.

        Returns
        -------
        mean : numpy.ndarray
            ``(types, candidates - 1)`` prior mean of ``alpha_t - mu`` as
            log-ratios vs the last candidate (0 where not covered).
        sd : numpy.ndarray
            ``(types,)`` prior sd on the model's score scale (the log-odds sd
            divided by ``sqrt(2)``), ``nan`` where the type is not covered.

        Raises
        ------
        ForecastInputError
            A candidate has no side in this prior, or the prior covers none of
            the types.
        """
        side_of = [self.candidate_sides.get(c, c) for c in candidates]
        for i, c in enumerate(candidates):
            names = (members or {}).get(c)
            if side_of[i] not in self.sides and names:
                own = {self.candidate_sides.get(m, m) for m in names}
                if len(own) != 1 or not own <= set(self.sides):
                    raise ForecastInputError(
                        f"{c!r} pools {list(names)}, whose sides are {sorted(own)}; with a prior a pooled bloc needs "
                        f"one side of {list(self.sides)}: map its members to one side in prior_from(sides=...) "
                        "or lower min_share so that they are not pooled"
                    )
                side_of[i] = own.pop()
        missing = [c for c, s in zip(candidates, side_of) if s not in self.sides]
        if missing:
            raise ForecastInputError(
                f"the prior has sides {list(self.sides)} but candidate(s) {missing} map to none of them; "
                "pass sides={candidate: side} to racecast.prior_from naming the candidates of this contest too, "
                "e.g. sides={'Karen Bass': 'progressive', 'Rick Caruso': 'centrist'}"
            )
        covered = [t for t in types if t in self.types]
        if not covered:
            raise ForecastInputError(
                f"the prior covers batch types {list(self.types)} but this count has {list(types)}; "
                "nothing to apply (rename types with prior_from(..., types={history_type: this_type}))"
            )
        idx = np.array([self.sides.index(s) for s in side_of])
        mean = np.zeros((len(types), len(candidates) - 1))
        sd = np.full(len(types), np.nan)
        for i, t in enumerate(types):
            if t in self.types:
                j = self.types.index(t)
                cand_shift = self.shift[j, idx]
                mean[i] = cand_shift[:-1] - cand_shift[-1]
                sd[i] = self.sd[j] / math.sqrt(2.0)
        return mean, sd


def _normal_quantile(p: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(p))


# ---------------------------------------------------------------------------
# estimation
# ---------------------------------------------------------------------------
def _type_side_votes(
    count: Count, side_of: Mapping[str, str], type_map: Mapping[str, str] | None
) -> tuple[list[str], list[str], np.ndarray, list[str]]:
    """Votes by (type, side) summed over the count's batches; candidates without a side are left out."""
    batches = count.batches()
    sides = list(dict.fromkeys(side_of[c] for c in count.candidates if c in side_of))
    left_out = [c for c in count.candidates if c not in side_of]
    types: list[str] = []
    rows: dict[str, np.ndarray] = {}
    for _, b in batches.iterrows():
        t = str(b["batch_type"])
        if type_map is not None:
            t = type_map.get(t, t)
        if t not in rows:
            types.append(t)
            rows[t] = np.zeros(len(sides))
        for c in count.candidates:
            if c in side_of:
                rows[t][sides.index(side_of[c])] += float(b[c])
    votes = np.array([rows[t] for t in types]) if types else np.zeros((0, len(sides)))
    return types, sides, votes, left_out


def _shifts(votes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shifts vs the last side relative to the type mean, and their sampling sd per type.

    ``votes`` is ``(T, S)``.  Returns ``shift (T, S)`` (last column 0) and the
    largest sampling sd over pairs of sides for each type ``(T,)`` (delta
    method, independent Poisson votes: ``var log(v + 1/2) = 1/(v + 1/2)``).
    """
    t_n, s_n = votes.shape
    logv = np.log(votes + 0.5)
    var = 1.0 / (votes + 0.5)
    rel = logv - logv[:, -1:]
    shift = rel - rel.mean(axis=0, keepdims=True)
    # Var[(L_ta - L_tb) - mean_t'(L_t'a - L_t'b)] = sum_{s in a,b} [(1-1/T)^2 v_ts^-1 + sum_{t'!=t} T^-2 v_t's^-1]
    own = (1.0 - 1.0 / t_n) ** 2 * var
    others = (var.sum(axis=0, keepdims=True) - var) / t_n**2
    per_side = own + others  # (T, S)
    pair = per_side[:, :, None] + per_side[:, None, :]
    off = ~np.eye(s_n, dtype=bool)
    samp_sd = np.sqrt(pair[:, off].max(axis=1))
    return shift, samp_sd


def prior_from(
    counts: Count | Sequence[Count],
    *,
    sides: Mapping[str, str] | None = None,
    types: Sequence[str] | Mapping[str, str] | None = None,
    inflation: float = DEFAULT_INFLATION,
) -> Prior:
    """Learn how batch types lean from completed counts.

    Parameters
    ----------
    counts
        One or more completed counts (every release to the end).  Each needs at
        least two batch types with counted votes: a type's lean is measured
        relative to the others.
    sides
        Candidate -> side, mapping candidates between elections, e.g.
        ``{"Karen Bass": "progressive", "Rick Caruso": "centrist"}``.  List the
        candidates of the history counts *and* of the contest you will forecast
        (names that appear in only one are fine).  Candidates of a history count
        without a side are left out of its contrasts (their votes are in no
        side); several candidates on one side are summed.  Default: every
        candidate is its own side (the same names in every count).
    types
        Batch types the prior covers: a list keeps only those; a mapping
        ``{history_type: type}`` keeps and renames them (several history types
        mapped to one name are pooled into one type).  The contest centre is
        always the mean over *every* type a history count has (after renaming),
        so covering fewer types does not change what a shift means.  Default:
        every type counted in the history.
    inflation
        Between-election change of a type's lean, sd in log-odds (> 0; default
        :data:`DEFAULT_INFLATION` = 0.25, about 6 share points near 50%).  It is
        what keeps history from overriding the new count (see ``docs/priors.md``).

    Returns
    -------
    Prior

    Raises
    ------
    ForecastInputError
        No counts, fewer than two types or sides, counts with different sides,
        or an invalid ``inflation``.

    Warns
    -----
    HistoryWarning
        A history count still reports outstanding ballots at its last release
        (it may not be complete).

    Examples
    --------
    >>> import racecast
    >>> primary = racecast.read_count(racecast.example_path("la_mayor_2022_primary"))
    >>> prior = racecast.prior_from(primary, sides={"Karen Bass": "progressive", "Rick Caruso": "centrist"})
    >>> tab = prior.log_odds_shift("progressive", "centrist")
    >>> [round(float(v), 3) for v in tab["mean"]], [round(float(v), 3) for v in tab["sd"]]
    ([-0.309, 0.309], [0.25, 0.25])
    """
    if isinstance(counts, Count):
        counts = [counts]
    counts = list(counts)
    if not counts:
        raise ForecastInputError("prior_from needs at least one completed count")
    for c in counts:
        if not isinstance(c, Count):
            raise ForecastInputError(f"prior_from needs racecast.Count objects, got {type(c).__name__}")
    try:
        inflation = float(inflation)
    except (TypeError, ValueError):
        raise ForecastInputError(f"inflation must be a number > 0, got {inflation!r}") from None
    if not (math.isfinite(inflation) and inflation > 0):
        raise ForecastInputError(
            f"inflation must be a finite number > 0, got {inflation!r}: a lean learned in another election is "
            "never exact, and a zero inflation would let history override the new count"
        )
    type_map: dict[str, str] | None
    if types is None:
        type_map = None
    elif isinstance(types, Mapping):
        type_map = {str(k): str(v) for k, v in types.items()}
    else:
        if isinstance(types, str):
            raise ForecastInputError(f"types must be a list of batch types, got the string {types!r}")
        type_map = {str(t): str(t) for t in types}
    keep = None if type_map is None else set(type_map.values())

    per_count = []
    for c in counts:
        side_of = dict(sides) if sides is not None else {name: name for name in c.candidates}
        outstanding = {t: a for t, (a, _) in c.latest_outstanding().items() if a > 0}
        if outstanding:
            warnings.warn(
                f"{c.name}: still reports outstanding ballots at its last release ({outstanding}); a prior "
                "learned from an incomplete count misses the ballots counted last",
                HistoryWarning,
                stacklevel=2,
            )
        t_list, s_list, votes, left_out = _type_side_votes(c, side_of, type_map)
        if len(s_list) < 2:
            raise ForecastInputError(
                f"{c.name}: needs at least two sides with votes, found {s_list}; pass sides= mapping its "
                f"candidates {list(c.candidates)}"
            )
        if len(t_list) < 2:
            raise ForecastInputError(
                f"{c.name}: has counted votes of {len(t_list)} batch type(s) {t_list}; a type's lean is "
                "measured relative to the other types, so at least two are needed"
            )
        shift, samp_sd = _shifts(votes)
        per_count.append((c, t_list, s_list, votes, shift, samp_sd, left_out))

    side_sets = {tuple(p[2]) for p in per_count}
    if len({frozenset(s) for s in side_sets}) > 1:
        raise ForecastInputError(
            f"the history counts have different sides {sorted(side_sets)}; map their candidates to common "
            "sides with sides={candidate: side}"
        )
    all_sides = list(per_count[0][2])
    all_types = [t for t in dict.fromkeys(t for p in per_count for t in p[1]) if keep is None or t in keep]
    if not all_types:
        raise ForecastInputError(
            f"none of the requested types {sorted(keep or [])} was counted in the history; it has "
            f"{sorted({t for p in per_count for t in p[1]})}"
        )
    tau2 = inflation**2 / 2.0  # between-election variance of one election's lean around the common lean
    shift_out = np.zeros((len(all_types), len(all_sides)))
    sd_out = np.zeros(len(all_types))
    history = []
    for c, t_list, s_list, votes, shift, samp_sd, left_out in per_count:
        order = [s_list.index(s) for s in all_sides]
        shift = shift[:, order] - shift[:, order][:, -1:]
        votes = votes[:, order]
        history.append(
            {
                "count": c.name.replace("\\", "/").rsplit("/", 1)[-1],
                "releases": len(c),
                "candidates_left_out": left_out,
                "votes": {
                    t: {s: int(votes[i, j]) for j, s in enumerate(all_sides)} for i, t in enumerate(t_list)
                },
                "shift": {
                    t: {s: float(shift[i, j]) for j, s in enumerate(all_sides)} for i, t in enumerate(t_list)
                },
                "sampling_sd": {t: float(samp_sd[i]) for i, t in enumerate(t_list)},
            }
        )
    for i, t in enumerate(all_types):
        w_sum, acc = 0.0, np.zeros(len(all_sides))
        for h in history:
            if t in h["shift"]:
                w = 1.0 / (h["sampling_sd"][t] ** 2 + tau2)
                w_sum += w
                acc += w * np.array([h["shift"][t][s] for s in all_sides])
        shift_out[i] = acc / w_sum
        sd_out[i] = math.sqrt(1.0 / w_sum + tau2)
    mapping = dict(sides) if sides is not None else {}
    for p in per_count:
        for name in p[0].candidates:
            mapping.setdefault(name, name)
    return Prior(
        types=tuple(all_types),
        sides=tuple(all_sides),
        shift=shift_out,
        sd=sd_out,
        candidate_sides=mapping,
        inflation=inflation,
        history=tuple(history),
    )
