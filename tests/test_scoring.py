"""Scoring functions, checked against values worked out by hand in the comments."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from racecast import scoring
from racecast.errors import ForecastInputError


@pytest.fixture
def three_way() -> pd.DataFrame:
    # Three forecasts of a three-candidate race that B won.
    return pd.DataFrame(
        {"A": [0.5, 0.2, 0.0], "B": [0.3, 0.7, 1.0], "C": [0.2, 0.1, 0.0]},
        index=pd.Index([4, 5, 6], name="release"),
    )


def test_brier_sums_squared_errors_over_every_candidate(three_way):
    # row 4: (0.5-0)^2 + (0.3-1)^2 + (0.2-0)^2 = 0.25 + 0.49 + 0.04 = 0.78
    # row 5: 0.04 + 0.09 + 0.01 = 0.14
    # row 6: 0 + 0 + 0 = 0
    per = scoring.brier_score(three_way, "B", average=False)
    assert per.to_numpy() == pytest.approx([0.78, 0.14, 0.0])
    assert list(per.index) == [4, 5, 6]
    assert scoring.brier_score(three_way, "B") == pytest.approx((0.78 + 0.14) / 3)


def test_two_candidate_brier_is_twice_the_binary_brier():
    p = pd.DataFrame({"A": [0.7, 0.2], "B": [0.3, 0.8]})
    binary = np.mean([(0.7 - 1) ** 2, (0.2 - 1) ** 2])  # 0.09, 0.64 -> 0.365
    assert scoring.brier_score(p, "A") == pytest.approx(2 * binary) == pytest.approx(0.73)


def test_brier_of_certain_wrong_forecast_is_two():
    assert scoring.brier_score(pd.DataFrame({"A": [1.0], "B": [0.0]}), "B") == pytest.approx(2.0)


def test_log_loss_is_minus_log_of_the_winners_probability(three_way):
    # -ln 0.3, -ln 0.7, -ln 1
    per = scoring.log_loss(three_way, "B", average=False)
    assert per.to_numpy() == pytest.approx([-math.log(0.3), -math.log(0.7), 0.0])


def test_log_loss_clips_a_zero_probability_at_the_documented_floor():
    p = pd.DataFrame({"A": [0.0, 0.0004], "B": [1.0, 0.9996]})
    # both below 1e-3 -> ln(1000) each
    assert scoring.log_loss(p, "A") == pytest.approx(math.log(1000))
    assert scoring.log_loss(p, "A", clip=1e-6) == pytest.approx((math.log(1e6) - math.log(0.0004)) / 2)
    with pytest.raises(ForecastInputError):
        scoring.log_loss(p, "A", clip=0)


def test_numpy_input_uses_positions_as_candidates():
    arr = np.array([[0.5, 0.3, 0.2], [0.2, 0.7, 0.1]])
    assert scoring.brier_score(arr, 1) == pytest.approx((0.78 + 0.14) / 2)


def test_unknown_winner_and_missing_or_out_of_range_probabilities_are_refused(three_way):
    with pytest.raises(ForecastInputError, match="not one of the candidates"):
        scoring.brier_score(three_way, "Z")
    gap = three_way.copy()
    gap.loc[5, "A"] = np.nan
    with pytest.raises(ForecastInputError, match=r"missing values in rows \[5\]"):
        scoring.brier_score(gap, "B")
    with pytest.raises(ForecastInputError, match=r"\[0, 1\]"):
        scoring.brier_score(three_way * 2, "B")


def test_coverage_counts_each_candidate_interval_with_inclusive_bounds():
    lo = pd.DataFrame({"A": [0.50, 0.56, 0.40], "B": [0.40, 0.44, 0.30]})
    hi = pd.DataFrame({"A": [0.60, 0.58, 0.55], "B": [0.50, 0.45, 0.44]})
    truth = pd.Series({"B": 0.45, "A": 0.55})  # order must not matter
    # A: in, out (0.55 < 0.56), in (0.55 == upper);  B: in, in (== upper), out (0.45 > 0.44)
    inside = scoring.interval_coverage(lo, hi, truth, average=False)
    assert inside.to_numpy().tolist() == [[True, True], [False, True], [True, False]]
    assert scoring.interval_coverage(lo, hi, truth) == pytest.approx(4 / 6)


def test_interval_width_is_mean_of_upper_minus_lower():
    lo = pd.DataFrame({"A": [0.50, 0.56], "B": [0.40, 0.44]})
    hi = pd.DataFrame({"A": [0.60, 0.58], "B": [0.50, 0.45]})
    # 0.10, 0.02, 0.10, 0.01 -> 0.0575
    assert scoring.interval_width(lo, hi) == pytest.approx(0.0575)


def test_intervals_must_be_ordered_and_aligned():
    lo = pd.DataFrame({"A": [0.6]})
    hi = pd.DataFrame({"A": [0.5]})
    with pytest.raises(ForecastInputError, match="upper < lower"):
        scoring.interval_width(lo, hi)
    with pytest.raises(ForecastInputError, match="missing candidates"):
        scoring.interval_coverage(hi, lo + 0.2, pd.Series({"B": 0.5}))


def test_time_to_call_ignores_a_withdrawn_call():
    p = pd.Series([0.5, 0.96, 0.94, 0.95, 0.991, 0.999], index=[2, 3, 4, 5, 6, 7])
    assert scoring.time_to_call(p, threshold=0.95) == 5  # 3 was withdrawn at 4; 0.95 counts (>=)
    assert scoring.time_to_call(p, threshold=0.99) == 6


def test_time_to_call_is_none_when_the_last_forecast_is_below_the_threshold():
    p = pd.Series([0.99, 0.99, 0.80])
    assert scoring.time_to_call(p, threshold=0.95) is None


def test_time_to_call_is_the_first_forecast_when_always_above():
    times = pd.to_datetime(["2020-11-04 12:00", "2020-11-05 12:00"], utc=True)
    p = pd.Series([0.97, 0.99], index=times)
    assert scoring.time_to_call(p, threshold=0.95) == times[0]


def test_confident_wrong_calls_lists_forecasts_where_a_loser_reached_the_threshold(three_way):
    p = pd.DataFrame(
        {"A": [0.95, 0.10, 0.0, 0.3], "B": [0.05, 0.10, 0.0, 0.6], "C": [0.0, 0.80, 1.0, 0.1]},
        index=[10, 11, 12, 13],
    )
    # B won: row 10 (A at exactly 0.95) and row 12 (C certain) are confident wrong calls.
    assert list(scoring.confident_wrong_calls(p, "B")) == [10, 12]
    assert list(scoring.confident_wrong_calls(p, "B", threshold=0.99)) == [12]
    assert len(scoring.confident_wrong_calls(three_way, "B")) == 0


def test_winner_and_final_shares_from_final_votes():
    final = pd.Series({"A": 300, "B": 500, "C": 200})
    assert scoring.winner_of(final) == "B"
    assert scoring.final_shares(final).to_dict() == {"A": 0.3, "B": 0.5, "C": 0.2}
    with pytest.raises(ForecastInputError, match="exact tie"):
        scoring.winner_of(pd.Series({"A": 5, "B": 5}))


def test_score_forecasts_bundles_every_score():
    p = pd.DataFrame({"A": [0.40, 0.97, 0.99], "B": [0.60, 0.03, 0.01]}, index=[1, 2, 3])
    lo = pd.DataFrame({"A": [0.45, 0.50, 0.52], "B": [0.45, 0.46, 0.46]}, index=[1, 2, 3])
    hi = pd.DataFrame({"A": [0.55, 0.53, 0.53], "B": [0.55, 0.50, 0.47]}, index=[1, 2, 3])
    final = pd.Series({"A": 520, "B": 480})  # shares 0.52 / 0.48
    s = scoring.score_forecasts(p, final_votes=final, share_lower=lo, share_upper=hi)
    assert s.winner == "A"
    assert s.n_forecasts == 3
    # Brier: 2*0.6^2=0.72, 2*0.03^2=0.0018, 2*0.01^2=0.0002 -> mean 0.2406667
    assert s.brier == pytest.approx((0.72 + 0.0018 + 0.0002) / 3)
    assert s.log_loss == pytest.approx(-(math.log(0.4) + math.log(0.97) + math.log(0.99)) / 3)
    # A (0.52): in, in, in (== lower);  B (0.48): in, in, out (upper 0.47 < 0.48)
    assert s.coverage == pytest.approx(5 / 6)
    assert s.interval_width == pytest.approx((0.10 + 0.03 + 0.01 + 0.10 + 0.04 + 0.01) / 6)
    assert (s.called_95, s.called_99) == (2, 3)
    assert s.confident_wrong_calls == 0
    assert set(s.to_dict()) >= {"brier", "log_loss", "coverage", "called_95"}


def test_score_without_intervals_reports_nan_coverage():
    p = pd.DataFrame({"A": [0.2], "B": [0.8]})
    s = scoring.score_forecasts(p, final_votes=pd.Series({"A": 1, "B": 2}))
    assert math.isnan(s.coverage)
    assert math.isnan(s.interval_width)
    assert s.called_95 is None
    assert s.confident_wrong_calls == 0
