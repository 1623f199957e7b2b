"""Place effects: a county (or district) leans its own way in every kind of ballot.

With ``Priors.place_sd`` above 0, a batch from place ``p`` (the count's ``place`` column)
leans ``alpha_t + u_p``: its type's lean plus its place's, ``u_p ~ N(0, place_sd^2 C)`` per
candidate score, the same ``u_p`` for every batch type.  Clark County's mail and Clark
County's provisional ballots share Clark's lean; Douglas County's mail does not pull the
lean of the mail still to come from Clark.

Assumed, and what happens at the edges:

* **A batch with no place** (an election-night snapshot of the whole state, a release of
  several counties) is a mix of the count's places in proportion to the votes counted in
  each place so far: it loads on ``sum_p w_p u_p`` with ``w_p`` the share of the placed
  votes counted in ``p``.
* **What is still to count** is a mix of the same places, but not in the same proportions:
  nothing says where the outstanding ballots are (no feed racecast reads publishes
  outstanding by place), and late in a count they sit in the few places still counting,
  often not the ones that counted fastest.  Its lean is ``alpha_t + sum_p v_p u_p`` with
  ``v ~ Dirichlet(w)``, one draw per posterior draw shared by every type: centred on the
  counted mix ``w``, with the spread of a mix concentrated in a place or two.  (A tighter
  mix, ``Dirichlet(c w)`` with ``c`` the effective number of places counted, left the NYT
  2020 feed's late intervals too narrow where the slow counters leaned unlike the fast:
  ``docs/model.md``, *Place effects*.)  The remainder is not assumed to sit where the latest
  batch came from (Utah County's provisional ballots were followed by Salt Lake County's).
* **A count with no place** (no ``place`` column, or every place blank) has no place
  effect at any ``place_sd``: the model is exactly the one without places.
* ``place_sd`` is a fixed prior scale, not sampled (like ``drift_sd``), so both engines and
  the collapsed density keep their two sampled scales; the place effects are Gaussian
  blocks integrated exactly with the type leans.

numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PlaceDesign", "place_design", "remainder_mix"]


@dataclass(frozen=True, eq=False)
class PlaceDesign:
    """How the counted batches and the remainder load on the place effects.

    Attributes
    ----------
    names
        The places, sorted (``P`` of them).
    loading
        ``(n, P)``: row ``k`` is one-hot on batch ``k``'s place, or ``weight`` for a batch
        with no place.
    weight
        ``(P,)``: share of the placed votes counted in each place (sums to 1); the mix of
        places of a batch with no place and of what is still to count.
    """

    names: tuple[str, ...]
    loading: np.ndarray
    weight: np.ndarray


def place_design(places: list[str | None], votes: np.ndarray) -> PlaceDesign | None:
    """The place loadings of the counted batches (``None`` when no batch has a place).

    Parameters
    ----------
    places
        Each counted batch's place (``racecast.model.batch_size.batch_places``), ``None``
        when it has none.
    votes
        ``(n,)`` votes in each batch.
    """
    names = tuple(sorted({p for p in places if p is not None}))
    if not names:
        return None
    index = {p: i for i, p in enumerate(names)}
    placed = np.array([index[p] if p is not None else -1 for p in places], dtype=np.int64)
    v = np.asarray(votes, float)
    weight = np.zeros(len(names))
    np.add.at(weight, placed[placed >= 0], v[placed >= 0])
    weight = weight / weight.sum() if weight.sum() > 0 else np.full(len(names), 1.0 / len(names))
    loading = np.tile(weight, (len(places), 1))
    rows = np.flatnonzero(placed >= 0)
    loading[rows] = 0.0
    loading[rows, placed[rows]] = 1.0
    return PlaceDesign(names=names, loading=loading, weight=weight)


def remainder_mix(weight: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    """``(draws, P)`` mixes of places of what is still to count: ``Dirichlet(w)``.

    Centred on the counted mix ``w`` (``PlaceDesign.weight``), with total concentration 1:
    place ``p``'s share has variance ``w_p (1 - w_p) / 2``, half that of all of what is left
    being in one place drawn with probabilities ``w``.  One place: always 1.
    """
    w = np.asarray(weight, float)
    if w.size == 1:
        return np.ones((draws, 1))
    return rng.dirichlet(np.maximum(w, 1e-3), size=draws)
