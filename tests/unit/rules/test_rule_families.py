"""Rule families on their own: threshold overrides and holds, baseline trends, staleness edges."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from rules.core.model import DeviceStatus
from rules.core.ruleset import BaselineChange, MetricThreshold, OverduePlan, ThresholdOverride, TrendRule
from rules.core.staleness import battery_low, offline, overdue
from rules.core.thresholds import apply_override, breach
from rules.core.trends import trend
from tests.unit.rules.builders import NOW, obs
from vward.domain.alerts import Severity
from vward.domain.metrics import Metric

SPO2 = MetricThreshold.model_validate(
    {
        "metric": "spo2",
        "low": [{"at_or_below": 91, "severity": "medium"}, {"at_or_below": 87, "severity": "high"}],
        "hold_minutes": 10,
        "hysteresis": 1,
        "max_age_minutes": 60,
    }
)


def override(**bounds: float) -> ThresholdOverride:
    return ThresholdOverride(metric=Metric.SPO2, reason="COPD baseline", expires_at=NOW + timedelta(days=1), **bounds)


def test_override_shifts_every_tier_of_its_side() -> None:
    shifted = apply_override(SPO2, override(low=88))
    assert [(b.at_or_below, b.severity) for b in shifted.low] == [(88, Severity.MEDIUM), (84, Severity.HIGH)]
    assert shifted.hold_minutes == 10


def test_override_adds_a_side_or_a_threshold_the_rule_set_lacks() -> None:
    with_high = apply_override(SPO2, override(high=99))
    assert [(b.at_or_above, b.severity) for b in with_high.high] == [(99, Severity.MEDIUM)]
    fresh = apply_override(None, override(low=85))
    assert (fresh.metric, fresh.low[0].at_or_below, fresh.hold_minutes) == (Metric.SPO2, 85, 0)


def series(*points: tuple[float, float]) -> list[tuple[datetime, float]]:
    """(minutes ago, value) -> (measured_at, value), oldest first."""
    return [(NOW - timedelta(minutes=ago), value) for ago, value in points]


@pytest.mark.parametrize(
    ("points", "active", "expected"),
    [
        (((10, 91), (0, 91)), False, Severity.MEDIUM),  # the bound itself is outside
        (((10, 92), (0, 91)), False, None),  # not held yet
        (((12, 86), (9, 86), (0, 86)), False, Severity.HIGH),
        (((12, 90), (9, 86), (0, 86)), False, Severity.MEDIUM),  # the worse tier has not held
        (((0, 92),), True, Severity.MEDIUM),  # within hysteresis while open
        (((0, 92.5),), True, None),
        (((61, 80),), True, None),  # too old to fire
    ],
)
def test_breach(points: tuple[tuple[float, float], ...], active: bool, expected: Severity | None) -> None:
    hit = breach(SPO2, "low", series(*points), now=NOW, active=active)
    assert (None if hit is None else hit.severity) == expected


def test_breach_on_an_empty_series_is_nothing() -> None:
    assert breach(SPO2, "high", [], now=NOW) is None


BASELINE = TrendRule.model_validate(
    {
        "name": "hr",
        "metric": "heart_rate",
        "direction": "rise",
        "baseline": {"days": 2, "exclude_hours": 6, "change": 20, "min_samples": 3},
    }
)


def hourly(values: list[float]) -> list[tuple[datetime, float]]:
    """One value an hour, the last one now."""
    return [(NOW - timedelta(hours=len(values) - 1 - i), v) for i, v in enumerate(values)]


def test_baseline_rise_compares_recent_median_with_the_days_before() -> None:
    evidence = trend(BASELINE, hourly([70.0] * 30 + [95.0] * 6))
    assert evidence is not None
    assert (evidence["baseline"], evidence["current"], evidence["change"]) == (70, 95, 25)


def test_baseline_needs_samples_and_a_real_change() -> None:
    assert trend(BASELINE, hourly([70.0, 70.0, 95.0, 95.0, 95.0, 95.0, 95.0, 95.0])) is None
    assert trend(BASELINE, hourly([70.0] * 30 + [85.0] * 6)) is None


def test_baseline_percent_and_fall() -> None:
    falling = BASELINE.model_copy(
        update={"direction": "fall", "baseline": BaselineChange(days=2, exclude_hours=0, percent=10, min_samples=3)}
    )
    assert trend(falling, hourly([80.0] * 10 + [70.0])) is not None
    assert trend(falling, hourly([80.0] * 10 + [75.0])) is None
    assert trend(falling, []) is None


def test_overdue_counts_from_admission_before_any_reading() -> None:
    plan = OverduePlan(name="weight", metrics=[Metric.WEIGHT], every_hours=24, grace_minutes=60)
    assert overdue(plan, {}, NOW - timedelta(hours=25), NOW) is None
    late = overdue(plan, {}, NOW - timedelta(hours=25, minutes=1), NOW)
    assert late is not None
    assert (late["last_measured_at"], late["overdue_minutes"]) == (None, 61)
    assert overdue(plan, {"weight": obs("weight", 80, 60)}, NOW - timedelta(days=9), NOW) is None


def test_device_never_seen_and_not_reporting_offline_is_not_flagged() -> None:
    unknown = DeviceStatus("d", "scale", None, None, None)
    assert offline(unknown, timedelta(hours=1), NOW) is None
    assert battery_low(unknown, 20) is None
    assert battery_low(DeviceStatus("d", "scale", True, 20, NOW), 20) is None
    reported = offline(DeviceStatus("d", "scale", False, 50, None), timedelta(hours=1), NOW)
    assert reported is not None
    assert reported["reported_offline"] is True
