"""Contest rules: what each rule says about simulated final counts.

Every expected number here is worked out by hand from the small arrays of final
votes in the test, never taken from the code under test.
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from racecast.errors import CalledRaceWarning, ForecastInputError
from racecast.rules import (
    Majority,
    Plurality,
    Rule,
    RuleResult,
    Seats,
    Threshold,
    TopTwo,
    lead_change_probability,
    resolve_rule,
)

ABC = ("A", "B", "C")


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def binomial_tolerance(p: float, n: int) -> float:
    """Five standard errors of a Monte Carlo proportion: a correct rule fails ~1 in 3 million runs."""
    return 5 * np.sqrt(p * (1 - p) / n)


# ---------------------------------------------------------------------------
# Plurality
# ---------------------------------------------------------------------------
def test_plurality_win_probability_is_the_share_of_draws_won():
    votes = np.array([[50, 30, 20], [30, 50, 20], [50, 20, 30], [20, 30, 50]])
    res = Plurality().evaluate(votes, ABC, rng())
    assert res.win_probability.to_dict() == {"A": 0.5, "B": 0.25, "C": 0.25}
    assert res.probabilities("win").to_dict() == {"A": 0.5, "B": 0.25, "C": 0.25}
    assert res.probability("tie") == 0.0
    assert res.rule == "plurality"
    assert list(res.outcomes.columns) == ["event", "candidate", "probability"]


def test_an_exact_tie_is_a_coin_flip_and_its_probability_is_reported():
    draws = 20_000
    votes = np.tile([1000, 1000, 10], (draws, 1))
    res = Plurality().evaluate(votes, ABC, rng(3))
    assert res.probability("tie") == 1.0
    for name in "AB":
        assert abs(res.win_probability[name] - 0.5) < binomial_tolerance(0.5, draws)
    assert res.win_probability["C"] == 0.0
    assert res.win_probability.sum() == pytest.approx(1.0)


def test_a_three_way_tie_gives_each_a_third():
    draws = 30_000
    votes = np.tile([7, 7, 7], (draws, 1))
    res = Plurality().evaluate(votes, ABC, rng(4))
    for name in ABC:
        assert abs(res.win_probability[name] - 1 / 3) < binomial_tolerance(1 / 3, draws)


def test_tie_breaks_follow_the_seed():
    votes = np.tile([5, 5], (200, 1))
    a = Plurality().evaluate(votes, "AB", rng(11)).winners
    b = Plurality().evaluate(votes, "AB", rng(11)).winners
    assert np.array_equal(a, b)


def test_recount_margin_is_a_share_of_all_votes():
    # margins: 4/2000 = 0.2 pt, 200/2000 = 10 pts, 10/2000 = 0.5 pt (exactly at the line counts)
    votes = np.array([[1002, 998], [1100, 900], [1005, 995]])
    res = Plurality().evaluate(votes, "AB", rng())
    assert res.probability("within_recount_margin") == pytest.approx(2 / 3)
    res = Plurality(recount_margin=0.001).evaluate(votes, "AB", rng())
    assert res.probability("within_recount_margin") == 0.0


def test_float_draws_from_a_simulator_are_accepted():
    votes = np.array([[10.4, 10.2], [3.0, 9.5]])
    res = Plurality().evaluate(votes, "AB", rng())
    assert res.win_probability.to_dict() == {"A": 0.5, "B": 0.5}


@pytest.mark.parametrize(
    "votes",
    [np.ones((3, 3)), np.ones(3), np.array([[1.0, np.nan]]), np.array([[1, -1]]), np.zeros((0, 2))],
    ids=["wrong width", "1-d", "nan", "negative", "no draws"],
)
def test_bad_final_votes_are_refused(votes):
    with pytest.raises(ForecastInputError):
        Plurality().evaluate(votes, "AB", rng())


# ---------------------------------------------------------------------------
# Majority with runoff
# ---------------------------------------------------------------------------
def test_majority_outright_win_needs_strictly_more_than_the_threshold():
    votes = np.array(
        [
            [51, 30, 19],  # A outright
            [50, 30, 20],  # A exactly at 50%: runoff A vs B
            [40, 45, 15],  # runoff B vs A
            [20, 35, 45],  # runoff C vs B
        ]
    )
    res = Majority().evaluate(votes, ABC, rng())
    assert res.win_probability.to_dict() == {"A": 0.25, "B": 0.0, "C": 0.0}
    assert res.probability("runoff") == 0.75
    assert res.probabilities("reach_runoff").to_dict() == {"A": 0.5, "B": 0.75, "C": 0.25}
    assert res.probabilities("runoff_pairing").to_dict() == {"A vs B": 0.5, "B vs C": 0.25}
    assert res.probability("at_threshold") == 0.25


def test_la_primary_shape_goes_to_a_runoff_between_the_top_two():
    # certified June 2022 shares: Bass 43.1, Caruso 36.0, the ten others 20.9 together
    votes = np.array([[431, 360, 75, 134]])
    names = ("Karen Bass", "Rick Caruso", "Kevin de Leon", "Other (9 candidates)")
    res = Majority().evaluate(votes, names, rng())
    assert res.probability("runoff") == 1.0
    assert res.probabilities("reach_runoff")[["Karen Bass", "Rick Caruso"]].tolist() == [1.0, 1.0]
    assert res.probabilities("runoff_pairing").to_dict() == {"Karen Bass vs Rick Caruso": 1.0}


def test_majority_threshold_can_be_lower_than_half():
    votes = np.array([[41, 39, 20], [39, 41, 20], [40, 35, 25]])
    res = Majority(threshold=0.4).evaluate(votes, ABC, rng())
    # 41% > 40% wins outright; exactly 40% does not
    assert res.win_probability.to_dict() == {"A": 1 / 3, "B": 1 / 3, "C": 0.0}
    assert res.probability("runoff") == pytest.approx(1 / 3)
    assert res.probability("at_threshold") == pytest.approx(1 / 3)


def test_a_tie_for_the_second_runoff_place_is_a_coin_flip():
    draws = 10_000
    votes = np.tile([40, 30, 30], (draws, 1))
    res = Majority().evaluate(votes, ABC, rng(5))
    assert res.probability("tie") == 1.0
    assert res.probabilities("reach_runoff")["A"] == 1.0
    for name in "BC":
        assert abs(res.probabilities("reach_runoff")[name] - 0.5) < binomial_tolerance(0.5, draws)


def test_majority_recount_margin_covers_the_threshold_and_the_runoff_place():
    votes = np.array(
        [
            [502, 300, 198],  # leader 0.2 pt above 50%: close
            [600, 300, 100],  # clear outright win
            [450, 276, 274],  # runoff, 2nd and 3rd 0.2 pt apart: close
            [450, 350, 200],  # clear runoff
        ]
    )
    res = Majority().evaluate(votes, ABC, rng())
    assert res.probability("within_recount_margin") == 0.5


def test_majority_threshold_accepts_fractions_and_strings():
    assert Majority(threshold="3/5").threshold == Fraction(3, 5)
    assert Majority(threshold=0.6).threshold == Fraction(3, 5)
    with pytest.raises(ForecastInputError):
        Majority(threshold=1.2)
    with pytest.raises(ForecastInputError):
        Majority(threshold="half")


# ---------------------------------------------------------------------------
# Top two and seats
# ---------------------------------------------------------------------------
def test_top_two_advance_sums_to_two_and_pairings_to_one():
    votes = np.array([[40, 35, 25, 0], [40, 25, 35, 0], [10, 25, 35, 30]])
    res = TopTwo().evaluate(votes, ("A", "B", "C", "D"), rng())
    assert res.win_probability.to_dict() == {"A": 2 / 3, "B": 1 / 3, "C": 2 / 3, "D": 1 / 3}
    assert res.win_probability.sum() == pytest.approx(2)
    assert res.probabilities("pairing").to_dict() == {"A vs B": 1 / 3, "A vs C": 1 / 3, "C vs D": 1 / 3}
    assert res.probabilities("pairing").sum() == pytest.approx(1)


def test_seats_three_of_eight():
    names = tuple("ABCDEFGH")
    base = np.array([800, 700, 600, 500, 400, 300, 200, 100])
    swapped = base.copy()
    swapped[[2, 3]] = swapped[[3, 2]]  # D overtakes C for the third seat
    crowded = base[::-1].copy()  # the order reversed: F, G, H win
    votes = np.array([base, base, swapped, crowded])
    res = Seats(3).evaluate(votes, names, rng())
    assert res.win_probability.to_dict() == {
        "A": 0.75,
        "B": 0.75,
        "C": 0.5,
        "D": 0.25,
        "E": 0.0,
        "F": 0.25,
        "G": 0.25,
        "H": 0.25,
    }
    assert res.win_probability.sum() == pytest.approx(3)
    assert res.winners.sum(axis=1).tolist() == [3, 3, 3, 3]


def test_seats_report_a_tie_for_the_last_seat():
    draws = 10_000
    votes = np.tile([9, 8, 5, 5, 1], (draws, 1))
    res = Seats(3).evaluate(votes, tuple("ABCDE"), rng(2))
    assert res.probability("tie") == 1.0
    assert abs(res.win_probability["C"] - 0.5) < binomial_tolerance(0.5, draws)
    assert res.win_probability["C"] + res.win_probability["D"] == pytest.approx(1.0)


def test_an_uncontested_contest_elects_everyone():
    res = Seats(3).evaluate(np.array([[5, 3, 1]]), ABC, rng())
    assert res.win_probability.tolist() == [1.0, 1.0, 1.0]
    assert res.probability("tie") == 0.0


def test_more_seats_than_candidates_is_refused():
    with pytest.raises(ForecastInputError, match="at least 4"):
        Seats(4).evaluate(np.array([[5, 3, 1]]), ABC, rng())


# ---------------------------------------------------------------------------
# Ballot-measure thresholds
# ---------------------------------------------------------------------------
def test_threshold_passes_at_the_required_share():
    votes = np.array([[56, 44], [55, 45], [54, 46]])
    res = Threshold(0.55).evaluate(votes, ("Yes", "No"), rng())
    # 56% passes, exactly 55% passes ("at least 55%"), 54% fails
    assert res.probabilities("pass").to_dict() == {"Yes": 2 / 3}
    assert res.probabilities("fail").to_dict() == {"No": 1 / 3}
    assert res.probability("at_threshold") == pytest.approx(1 / 3)
    res = Threshold(0.55, pass_at_line=False).evaluate(votes, ("Yes", "No"), rng())
    assert res.win_probability["Yes"] == pytest.approx(1 / 3)


def test_a_tie_is_not_a_majority():
    res = Threshold(0.5).evaluate(np.array([[500, 500]]), ("Yes", "No"), rng())
    assert res.win_probability.to_dict() == {"Yes": 0.0, "No": 1.0}
    assert res.probability("at_threshold") == 1.0


def test_two_thirds_is_exact():
    # 200,000 of 300,000 is exactly two-thirds: passes; one vote fewer fails
    votes = np.array([[200_000, 100_000], [199_999, 100_001]])
    for share in (2 / 3, "2/3", Fraction(2, 3)):
        res = Threshold(share).evaluate(votes, ("Yes", "No"), rng())
        assert res.win_probability["Yes"] == 0.5
        assert res.probability("at_threshold") == 0.5


@pytest.mark.parametrize("share", [0.5, 0.55, 2 / 3])
def test_a_count_centred_on_the_line_passes_about_half_the_time(share):
    draws = 20_000
    total = 3_000_000
    noise = rng(7).normal(0.0, 5_000.0, size=draws)
    yes = np.round(share * total + noise)
    votes = np.column_stack([yes, total - yes])
    res = Threshold(share).evaluate(votes, ("Yes", "No"), rng())
    assert abs(res.win_probability["Yes"] - 0.5) < binomial_tolerance(0.5, draws) + res.probability(
        "at_threshold"
    )


def test_threshold_names_its_columns():
    votes = np.array([[40, 60]])  # Non 40, Sí 60
    res = Threshold(0.5, yes="Sí", no="Non").evaluate(votes, ("Non", "Sí"), rng())
    assert res.win_probability.to_dict() == {"Non": 0.0, "Sí": 1.0}
    with pytest.raises(ForecastInputError, match="'Yes' and 'No'"):
        Threshold().evaluate(votes, ("For", "Against"), rng())
    with pytest.raises(ForecastInputError):
        Threshold().evaluate(np.array([[60, 40, 3]]), ("Yes", "No", "Blank"), rng())


# ---------------------------------------------------------------------------
# Called races
# ---------------------------------------------------------------------------
def test_a_called_winner_is_pinned_and_the_rest_is_conditional_on_the_call():
    votes = np.array([[60, 30, 10], [30, 60, 10], [45, 50, 5], [70, 20, 10]])
    res = Plurality().evaluate(votes, ABC, rng(), called="B")
    assert res.win_probability.to_dict() == {"A": 0.0, "B": 1.0, "C": 0.0}
    assert res.called == ("B",)
    assert res.called_probability == 0.5
    assert res.kept_draws.tolist() == [False, True, True, False]
    # 2nd and 3rd of the kept draws: margins 30 and 5 points
    assert res.probability("within_recount_margin") == 0.0


def test_a_called_runoff_pins_the_pair():
    votes = np.array([[45, 35, 20], [45, 20, 35], [55, 30, 15]])
    res = Majority().evaluate(votes, ABC, rng(), called=("C", "A"))
    assert res.probability("runoff") == 1.0
    assert res.probabilities("reach_runoff").to_dict() == {"A": 1.0, "B": 0.0, "C": 1.0}
    assert res.probabilities("runoff_pairing").to_dict() == {"A vs C": 1.0}
    assert res.called_probability == pytest.approx(1 / 3)
    res = Majority().evaluate(votes, ABC, rng(), called="A")
    assert res.win_probability["A"] == 1.0
    assert res.probability("runoff") == 0.0


def test_a_partial_call_of_a_multi_winner_race_leaves_the_other_places_uncertain():
    votes = np.array([[40, 35, 25], [40, 25, 35], [20, 35, 45], [50, 40, 10]])
    res = TopTwo().evaluate(votes, ABC, rng(), called="C")
    # C advances in draws 2 and 3; with A in one and B in the other
    assert res.win_probability.to_dict() == {"A": 0.5, "B": 0.5, "C": 1.0}
    assert res.win_probability.sum() == pytest.approx(2)


def test_a_called_measure():
    votes = np.array([[70, 30], [60, 40], [68, 32]])
    res = Threshold("2/3").evaluate(votes, ("Yes", "No"), rng(), called="No")
    assert res.win_probability.to_dict() == {"Yes": 0.0, "No": 1.0}
    assert res.kept_draws.tolist() == [False, True, False]


def test_a_call_no_draw_agrees_with_is_imposed_with_a_warning():
    votes = np.array([[60, 30, 10], [55, 40, 5]])
    with pytest.warns(CalledRaceWarning, match="none of the 2"):
        res = Majority().evaluate(votes, ABC, rng(), called=("A", "C"))
    assert res.probabilities("reach_runoff").to_dict() == {"A": 1.0, "B": 0.0, "C": 1.0}
    assert res.probability("runoff") == 1.0
    assert res.called_probability == 0.0
    assert np.isnan(res.probability("tie"))
    assert np.isnan(res.probability("within_recount_margin"))
    with pytest.warns(CalledRaceWarning):
        res = Plurality().evaluate(votes, ABC, rng(), called="C")
    assert res.win_probability.to_dict() == {"A": 0.0, "B": 0.0, "C": 1.0}


def test_a_consistent_call_raises_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Plurality().evaluate(np.array([[6, 4]]), "AB", rng(), called="A")


@pytest.mark.parametrize(
    ("rule", "called", "match"),
    [
        (Plurality(), "Z", "not a candidate"),
        (Plurality(), ("A", "B"), "1 winner"),
        (Majority(), ("A", "B", "C"), "one name"),
        (TopTwo(), ("A", "A"), "twice"),
        (Plurality(), "Other (2 candidates)", "pooled"),
    ],
)
def test_bad_calls_are_refused(rule, called, match):
    names = ("A", "B", "C", "Other (2 candidates)")
    with pytest.raises(ForecastInputError, match=match):
        rule.evaluate(np.array([[5, 4, 3, 1]]), names, rng(), called=called)


# ---------------------------------------------------------------------------
# Pooled blocs
# ---------------------------------------------------------------------------
def test_a_pooled_bloc_never_takes_a_winning_place_but_counts_in_shares():
    names = ("A", "B", "Other (5 candidates)")
    votes = np.array([[45, 15, 40]])
    assert Plurality().evaluate(votes, names, rng()).win_probability.to_dict() == {
        "A": 1.0,
        "B": 0.0,
        "Other (5 candidates)": 0.0,
    }
    res = Majority().evaluate(votes, names, rng())
    assert res.probability("runoff") == 1.0  # 45% of all votes is not a majority
    assert res.probabilities("runoff_pairing").to_dict() == {"A vs B": 1.0}


# ---------------------------------------------------------------------------
# Lead change
# ---------------------------------------------------------------------------
def test_lead_change_is_the_chance_the_current_leader_does_not_finish_first():
    current = pd.Series({"Rick Caruso": 133_059, "Karen Bass": 116_688})
    final = np.array([[240, 250], [260, 250], [250, 260], [255, 255]])
    # leader Caruso loses draws 1 and 3, wins draw 2 and has half of the tied draw 4
    assert lead_change_probability(current, final) == pytest.approx(2.5 / 4)


def test_a_shared_lead_changes_only_when_someone_else_finishes_first():
    final = np.array([[5, 4, 3], [4, 5, 3], [3, 4, 5], [5, 5, 5]])
    # A and B lead together now; C first in draw 3 and a third of draw 4
    assert lead_change_probability([10, 10, 2], final) == pytest.approx((1 + 1 / 3) / 4)


def test_a_pooled_bloc_is_never_the_leader():
    final = np.array([[10, 5, 30], [5, 10, 30]])
    current = pd.Series({"A": 10, "B": 8, "Other (4 candidates)": 40})
    assert lead_change_probability(current, final) == 0.5


# ---------------------------------------------------------------------------
# Shortcuts
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("shortcut", "expected"),
    [
        (None, Plurality()),
        ("plurality", Plurality()),
        ("majority", Majority()),
        ("Majority:0.4", Majority(threshold=Fraction(2, 5))),
        ("top_two", TopTwo()),
        ("top-two", TopTwo()),
        ("seats:3", Seats(3)),
        ("threshold", Threshold(0.5)),
        ("threshold:0.55", Threshold(Fraction(11, 20))),
        ("threshold: 2/3", Threshold(Fraction(2, 3))),
    ],
)
def test_string_shortcuts(shortcut, expected):
    assert resolve_rule(shortcut) == expected


def test_a_rule_object_passes_through():
    rule = Majority(threshold=0.6)
    assert resolve_rule(rule) is rule


@pytest.mark.parametrize("bad", ["instant_runoff", "seats", "seats:two", "threshold:1.5", "plurality:2", 3])
def test_unknown_shortcuts_are_refused(bad):
    with pytest.raises(ForecastInputError):
        resolve_rule(bad)


def test_seats_keyword():
    assert resolve_rule(None, seats=3) == Seats(3)
    assert resolve_rule("plurality", seats=1) == Plurality()
    assert resolve_rule(Seats(2), seats=2) == Seats(2)
    with pytest.raises(ForecastInputError, match="conflicts"):
        resolve_rule("majority", seats=2)
    with pytest.raises(ForecastInputError):
        resolve_rule(None, seats=0)


# ---------------------------------------------------------------------------
# Properties: probabilities sum as each rule says
# ---------------------------------------------------------------------------
def final_votes(min_k: int = 2, max_k: int = 9):
    """(draws, K) arrays of small whole vote counts: ties are common, as they should be in a test."""
    return st.integers(min_k, max_k).flatmap(
        lambda k: hnp.arrays(np.int64, st.tuples(st.integers(1, 40), st.just(k)), elements=st.integers(0, 30))
    )


def names(k: int) -> tuple[str, ...]:
    return tuple(f"C{i}" for i in range(k))


def probabilities_are_valid(res: RuleResult) -> None:
    p = res.outcomes["probability"].to_numpy()
    assert ((p >= 0) & (p <= 1)).all()
    assert ((res.win_probability >= 0) & (res.win_probability <= 1)).all()
    assert np.allclose(res.win_probability.to_numpy(), res.winners.mean(axis=0))


PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(final_votes(), st.integers(0, 2**32 - 1))
def test_plurality_sums_to_one(votes, seed):
    res = Plurality().evaluate(votes, names(votes.shape[1]), rng(seed))
    probabilities_are_valid(res)
    assert res.win_probability.sum() == pytest.approx(1.0)
    assert (res.winners.sum(axis=1) == 1).all()


@PROPS
@given(final_votes(min_k=4), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_seats_sum_to_the_number_of_seats(votes, n, seed):
    res = Seats(n).evaluate(votes, names(votes.shape[1]), rng(seed))
    probabilities_are_valid(res)
    assert res.win_probability.sum() == pytest.approx(n)


@PROPS
@given(final_votes(min_k=3), st.integers(0, 2**32 - 1))
def test_top_two_sums_to_two_and_its_pairings_to_one(votes, seed):
    res = TopTwo().evaluate(votes, names(votes.shape[1]), rng(seed))
    probabilities_are_valid(res)
    assert res.win_probability.sum() == pytest.approx(2.0)
    assert res.probabilities("pairing").sum() == pytest.approx(1.0)


@PROPS
@given(final_votes(), st.sampled_from([0.4, 0.5, 0.6]), st.integers(0, 2**32 - 1))
def test_majority_outright_and_runoff_add_up(votes, threshold, seed):
    res = Majority(threshold=threshold).evaluate(votes, names(votes.shape[1]), rng(seed))
    probabilities_are_valid(res)
    p_runoff = res.probability("runoff")
    assert res.win_probability.sum() + p_runoff == pytest.approx(1.0)
    assert res.probabilities("reach_runoff").sum() == pytest.approx(2 * p_runoff)
    pairings = res.outcomes[res.outcomes["event"] == "runoff_pairing"]["probability"]
    assert pairings.sum() == pytest.approx(p_runoff)


@PROPS
@given(final_votes(min_k=2, max_k=2), st.sampled_from([0.5, 0.55, 2 / 3]), st.integers(0, 2**32 - 1))
def test_threshold_pass_and_fail_add_up(votes, share, seed):
    res = Threshold(share).evaluate(votes, ("Yes", "No"), rng(seed))
    probabilities_are_valid(res)
    assert res.win_probability.sum() == pytest.approx(1.0)


@PROPS
@given(final_votes(min_k=3), st.data())
def test_a_call_pins_the_called_candidate_and_keeps_the_sums(votes, data):
    k = votes.shape[1]
    rule: Rule = data.draw(st.sampled_from([Plurality(), TopTwo(), Seats(2)]))
    called = names(k)[data.draw(st.integers(0, k - 1))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalledRaceWarning)
        res = rule.evaluate(votes, names(k), rng(), called=called)
    assert res.win_probability[called] == 1.0
    expected_sum = {"plurality": 1, "top_two": 2, "seats": 2}[res.rule]
    assert res.win_probability.sum() == pytest.approx(expected_sum)
    if res.called_probability > 0:  # conditional on the call: only the draws that agree with it
        assert res.winners.shape[0] == res.kept_draws.sum() == round(res.called_probability * votes.shape[0])
    else:  # imposed on every draw
        assert res.kept_draws.all()
        assert res.winners.shape[0] == votes.shape[0]


@PROPS
@given(final_votes(min_k=3), st.integers(0, 30), st.integers(0, 2**32 - 1))
def test_more_votes_for_a_candidate_never_lowers_its_chance(votes, extra, seed):
    more = votes.copy()
    more[:, 0] += extra
    for rule in (Plurality(), TopTwo(), Seats(2)):
        before = rule.evaluate(votes, names(votes.shape[1]), rng(seed)).winners[:, 0]
        after = rule.evaluate(more, names(votes.shape[1]), rng(seed)).winners[:, 0]
        # same seed, same tie-break order: draw by draw, a win stays a win
        assert (after >= before).all()
