"""The `Prior` object: how batch types leaned in earlier, completed counts.

On election night the most important unknown is how the type not yet counted
(late mail, say) will lean.  [`prior_from`][racecast.prior_from] (in
`racecast.history`) learns it from one or more completed counts -- the same
contest in an earlier election, or a primary of the same race -- and
[`forecast`][racecast.forecast] uses it with `prior=`.

A [`Prior`][racecast.Prior] holds, for each batch type `t` it covers and each
*side* (candidates mapped between elections), the prior mean of the type's
log-odds lean relative to the contest centre and its sd.  This is the quantity
the model's hierarchy calls `alpha_t - mu` (a type's lean relative to the
contest-wide mean of the type leans), so the prior replaces that term for the
types it covers (see "Priors from history" on the model page).

Not to be confused with [`Priors`][racecast.Priors], the prior *scales* of the
model (`sigma_type`, `sigma_batch`, ...); a `Prior` is information about
particular batch types.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import ForecastInputError

__all__ = ["DEFAULT_INFLATION", "Prior"]

DEFAULT_INFLATION = 0.25
"""Default between-election change of a type's lean, sd in log-odds (about 6 share points near 50%).

A judgement, not an estimate: about half the typical spread between types the
default model expects (`sigma_type` ~ 0.5 on the score scale, ~0.5-0.7
log-odds), i.e. history is taken to say more than nothing but much less than a
batch of the type itself.
"""

_FORMAT = "racecast.Prior"
_FORMAT_VERSION = 1


@dataclass(frozen=True, eq=False)
class Prior:
    """How batch types leaned in earlier counts, as a prior for a new forecast.

    Built by [`prior_from`][racecast.prior_from] (or
    [`from_dict`][racecast.Prior.from_dict]).  Immutable; print it for a table,
    save it with [`to_dict`][racecast.Prior.to_dict] (JSON-serialisable).

    Attributes
    ----------
    types : tuple of str
        Batch types the prior covers.
    sides : tuple of str
        Sides, in order; the last is the reference side of `shift`.
    shift : numpy.ndarray
        `(types, sides)` prior mean log-odds shift of each side vs the last
        side, in each type relative to the contest centre (the last column is 0).
        With two sides, `shift[t, 0]` is "how much more the first side gets in
        type `t` than in the contest as a whole", in log-odds.
    sd : numpy.ndarray
        `(types,)` prior sd of the log-odds shift between any two sides
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

    def log_odds_shift(self, side_a: str, side_b: str, *, interval: float = 0.9) -> pd.DataFrame:
        """Prior of the log-odds shift of `side_a` vs `side_b` by batch type.

        Parameters
        ----------
        side_a, side_b
            Two of `sides`.
        interval
            Mass of the reported normal interval.

        Returns
        -------
        pandas.DataFrame
            Indexed by batch type: `mean`, `sd`, `lower`, `upper`, and
            `points` (the mean in share points at an even contest, `100 *
            (expit(mean) - 0.5)`).

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
            width = max(len(t) for t in (*self.types, "batch type"))
            lines.append(
                f"{'batch type':<{width}}  log-odds shift of {a} vs {ref} relative to the contest "
                "(sd, 90% interval)"
            )
            for t, r in tab.iterrows():
                lines.append(
                    f"{t:<{width}}  {r['mean']:+.3f} (sd {r['sd']:.3f}, "
                    f"[{r['lower']:+.3f}, {r['upper']:+.3f}]); "
                    f"{r['points']:+.1f} share points at 50%"
                )
        mapped = {c: s for c, s in self.candidate_sides.items() if c != s}
        if mapped:
            lines.append("sides: " + ", ".join(f"{c} -> {s}" for c, s in mapped.items()))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Prior types {list(self.types)}, sides {list(self.sides)}, inflation {self.inflation:g}>"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict; [`from_dict`][racecast.Prior.from_dict] reads it back.

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
        """Rebuild a prior from [`to_dict`][racecast.Prior.to_dict] output.

        Raises
        ------
        ForecastInputError
            When the dict is not a saved prior or is incomplete.
        """
        if not isinstance(data, Mapping) or data.get("format") != _FORMAT:
            raise ForecastInputError(
                f"not a saved racecast prior (expected format {_FORMAT!r}); "
                "build one with racecast.prior_from"
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
            The contest's candidates (each must map to one of `sides`).
        types
            The batch types the model carries.
        members
            For a bloc pooling several candidates (`forecast(min_share=...)`),
            the names it pools: the bloc takes their side when they all share one.

        Returns
        -------
        mean : numpy.ndarray
            `(types, candidates - 1)` prior mean of `alpha_t - mu` as
            log-ratios vs the last candidate (0 where not covered).
        sd : numpy.ndarray
            `(types,)` prior sd on the model's score scale (the log-odds sd
            divided by `sqrt(2)`), `nan` where the type is not covered.

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
                        f"{c!r} pools {list(names)}, whose sides are {sorted(own)}; with a prior a pooled "
                        f"bloc needs one side of {list(self.sides)}: map its members to one side in "
                        "prior_from(sides=...) or lower min_share so that they are not pooled"
                    )
                side_of[i] = own.pop()
        missing = [c for c, s in zip(candidates, side_of, strict=True) if s not in self.sides]
        if missing:
            raise ForecastInputError(
                f"the prior has sides {list(self.sides)} but candidate(s) {missing} map to none of them; "
                "pass sides={candidate: side} to racecast.prior_from naming the candidates of this contest "
                "too, "
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
