"""Every option of a forecast, with its default and its check, in one place.

[`forecast`][racecast.forecast], [`replay`][racecast.replay],
[`forecast_many`][racecast.forecast_many] and the command line take their defaults
from the constants here and validate their options through
[`ForecastSettings.validate`][racecast.settings.ForecastSettings.validate], so they
cannot disagree.

Why the fast engine is the default
----------------------------------
Both engines fit the same model (``docs/model.md``). The model is collapsed over its
Gaussian parameters, which leaves two scales (four with turnout); ``engine="fast"``
integrates them on a grid and draws everything else exactly, ``engine="nuts"``
samples them with NUTS. They agree to within Monte Carlo error (tested on the LA 2022
releases and on synthetic counts), but the fast engine takes ~20 ms per contest and
never needs a compiler, which is what rerunning every contest of a ballot after every
release requires; NUTS (~0.3 s warm, seconds cold) is there to check the grid and for
models whose extra parameters a grid cannot hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from .errors import ForecastInputError
from .model import Priors
from .outstanding import DEFAULT_OUTSTANDING_SD
from .prior import Prior
from .rules import Rule, resolve_rule

__all__ = [
    "DEFAULT_DRAWS",
    "DEFAULT_ENGINE",
    "DEFAULT_INTERVAL",
    "DEFAULT_OUTSTANDING_SD",
    "DEFAULT_SHARED_SCALES",
    "MAX_OUTSTANDING_SD",
    "Engine",
    "ForecastSettings",
    "NutsSettings",
]

Engine = Literal["fast", "nuts"]
"""The engines: ``"fast"`` (grid integration) and ``"nuts"`` (NUTS sampling) of the same model."""

DEFAULT_ENGINE: Engine = "fast"
"""Default engine of every entry point (see the module docstring for why)."""
DEFAULT_DRAWS = 2000
"""Posterior draws, each simulated into one final count."""
DEFAULT_INTERVAL = 0.9
"""Probability mass of the reported intervals."""
DEFAULT_SHARED_SCALES = False
"""Whether [`forecast_ballot`][racecast.forecast_ballot] learns the model's scales across
its contests ([`share_scales`][racecast.share_scales]); see ``docs/calibration.md`` for
the replay of the LA County ballot that decides it."""
MAX_OUTSTANDING_SD = 10.0
"""Largest accepted ``outstanding_sd`` (a relative sd: 10 = 1,000%)."""
MIN_DRAWS = 100
"""Fewest draws a forecast accepts (fewer make its tail probabilities meaningless)."""


@dataclass(frozen=True)
class NutsSettings:
    """How the NUTS engine samples.

    Attributes
    ----------
    chains : int
        Chains (the draws are split over them).
    tune : int
        Tuning steps per chain.
    target_accept : float
        Target acceptance of the first try.
    retry_target_accept : float
        Target acceptance of the one retry after poor diagnostics (smaller steps);
        if the retry is poor too the forecast falls back to the fast engine.
    cores : int or None
        Chains run in parallel (default: one core per chain;
        [`forecast_many`][racecast.forecast_many]'s worker processes use 1).
    """

    chains: int = 2
    tune: int = 500
    target_accept: float = 0.9
    retry_target_accept: float = 0.99
    cores: int | None = None

    def __post_init__(self) -> None:
        for name in ("chains", "tune"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ForecastInputError(f"nuts {name} must be a positive integer, got {value!r}")
        for name in ("target_accept", "retry_target_accept"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.5 <= value < 1:
                raise ForecastInputError(f"nuts {name} must be in [0.5, 1), got {value!r}")
        if self.cores is not None and (not isinstance(self.cores, (int, np.integer)) or self.cores < 1):
            raise ForecastInputError(f"nuts cores must be None or a positive integer, got {self.cores!r}")


def _seed_integer(seed: Any) -> int:
    """The integer seed a forecast records and runs on (drawn from a Generator or fresh entropy)."""
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return int(seed)
    if seed is None:
        return int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    try:
        generator = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    except (TypeError, ValueError) as exc:
        raise ForecastInputError(
            f"seed must be None, a non-negative integer or a numpy Generator, got {seed!r} ({exc})"
        ) from None
    return int(generator.integers(2**63 - 1))


def _check_draws(draws: Any) -> int:
    if not isinstance(draws, (int, np.integer)) or isinstance(draws, bool) or draws < MIN_DRAWS:
        raise ForecastInputError(f"draws must be an integer >= {MIN_DRAWS}, got {draws!r}")
    return int(draws)


def _check_interval(interval: Any) -> float:
    if not isinstance(interval, (int, float, np.floating)) or not 0.0 < interval < 1.0:
        raise ForecastInputError(f"interval must be in (0, 1), got {interval!r}")
    return float(interval)


def _check_outstanding_sd(sd: Any) -> float:
    try:
        value = float(sd)
    except (TypeError, ValueError):
        value = float("nan")
    if not (np.isfinite(value) and 0 <= value <= MAX_OUTSTANDING_SD):
        raise ForecastInputError(
            "outstanding_sd is the relative sd of the outstanding estimates (0.15 = 15%); it must be a "
            f"number from 0 to {MAX_OUTSTANDING_SD:g}, got {sd!r}"
        )
    return value


def _check_priors(priors: Any) -> Priors:
    if priors is None:
        return Priors()
    if not isinstance(priors, Priors):
        raise ForecastInputError(f"priors must be a racecast.Priors, got {type(priors).__name__}")
    bad = priors.invalid_scales()
    if bad:
        raise ForecastInputError(f"prior scales must be positive and finite, got {bad}")
    return priors


def _check_nuts(nuts: Any) -> NutsSettings:
    if nuts is None:
        return NutsSettings()
    if isinstance(nuts, NutsSettings):
        return nuts
    if isinstance(nuts, Mapping):
        unknown = set(nuts) - set(NutsSettings.__dataclass_fields__)
        if unknown:
            raise ForecastInputError(
                f"nuts: unknown setting(s) {sorted(unknown)}; "
                f"known: {list(NutsSettings.__dataclass_fields__)}"
            )
        return NutsSettings(**nuts)
    raise ForecastInputError(f"nuts must be a racecast.NutsSettings or a mapping, got {type(nuts).__name__}")


@dataclass(frozen=True)
class ForecastSettings:
    """The validated options of one forecast (see [`forecast`][racecast.forecast] for each)."""

    engine: Engine = DEFAULT_ENGINE
    draws: int = DEFAULT_DRAWS
    seed: int = 0
    interval: float = DEFAULT_INTERVAL
    outstanding_sd: float = DEFAULT_OUTSTANDING_SD
    priors: Priors = field(default_factory=Priors)
    prior: Prior | None = None
    rule: Rule = field(default_factory=lambda: resolve_rule(None))
    seats: int | None = None
    called: tuple[str, ...] = ()
    min_share: float | None = None
    nuts: NutsSettings = field(default_factory=NutsSettings)

    @classmethod
    def validate(
        cls,
        *,
        engine: Any = DEFAULT_ENGINE,
        draws: Any = DEFAULT_DRAWS,
        seed: Any = None,
        interval: Any = DEFAULT_INTERVAL,
        outstanding_sd: Any = DEFAULT_OUTSTANDING_SD,
        priors: Any = None,
        prior: Any = None,
        rule: Any = None,
        seats: Any = None,
        called: str | Iterable[str] | None = None,
        min_share: Any = None,
        nuts: Any = None,
    ) -> ForecastSettings:
        """Check every option once and raise `ForecastInputError` on the first bad one.

        A ``numpy.random.Generator`` or ``None`` seed becomes the integer the
        forecast runs on (drawn from the generator, or from fresh entropy), so the
        recorded seed always reproduces the forecast.
        """
        if engine not in ("nuts", "fast"):
            raise ForecastInputError(f"engine must be 'nuts' or 'fast', got {engine!r}")
        if prior is not None and not isinstance(prior, Prior):
            raise ForecastInputError(
                f"prior must be a racecast.Prior (see racecast.prior_from), got {type(prior).__name__}"
            )
        called_names = () if called is None else ((called,) if isinstance(called, str) else tuple(called))
        return cls(
            engine=engine,
            draws=_check_draws(draws),
            interval=_check_interval(interval),
            outstanding_sd=_check_outstanding_sd(outstanding_sd),
            seed=_seed_integer(seed),
            priors=_check_priors(priors),
            prior=prior,
            rule=resolve_rule(rule, seats=seats),
            seats=seats,
            called=called_names,
            min_share=min_share,
            nuts=_check_nuts(nuts),
        )

    def record(self) -> dict[str, Any]:
        """The settings as plain JSON-able values (a forecast's provenance)."""
        return {
            "requested_engine": self.engine,
            "draws": self.draws,
            "seed": self.seed,
            "interval": self.interval,
            "outstanding_sd": self.outstanding_sd,
            "priors": dict(vars(self.priors)),
            "prior": self.prior.to_dict() if self.prior is not None else None,
            "rule": self.rule.name,
            "seats": self.seats,
            "called": list(self.called),
            "min_share": self.min_share,
            "nuts": asdict(self.nuts),
        }
