"""The worklist's trends: each main vital's direction over 4 hours, from the stored parameter values, on both
sides of every step; nothing is guessed where an end has no number."""

from __future__ import annotations

from typing import Any

import pytest

from vward.api.worklist import TREND_STEP, vital_trends


def params(**values: Any) -> dict[str, Any]:
    return {name: {"value": value, "score": 0, "status": "ok"} for name, value in values.items()}


@pytest.mark.parametrize("metric", list(TREND_STEP))
def test_a_change_of_one_step_is_a_trend_and_just_under_it_is_not(metric: str) -> None:
    step, base = TREND_STEP[metric], 50.0
    assert vital_trends(params(**{metric: base + step}), params(**{metric: base})) == {metric: "rising"}
    assert vital_trends(params(**{metric: base - step}), params(**{metric: base})) == {metric: "falling"}
    under = step - 0.01
    assert vital_trends(params(**{metric: base + under}), params(**{metric: base})) == {metric: "steady"}
    assert vital_trends(params(**{metric: base - under}), params(**{metric: base})) == {metric: "steady"}


def test_a_vital_missing_at_either_end_or_not_a_number_has_no_trend() -> None:
    now = params(respiratory_rate=24.0, spo2=None, on_oxygen=True, consciousness="A", heart_rate=90.0)
    then = params(respiratory_rate=18.0, spo2=95.0, on_oxygen=False, consciousness="V")
    assert vital_trends(now, then) == {"respiratory_rate": "rising"}
    assert vital_trends(now, {}) == {}
    assert vital_trends({"heart_rate": {"value": True}}, {"heart_rate": {"value": 80.0}}) == {}
