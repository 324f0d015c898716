"""Per-metric thresholds: tiered bounds, "outside for N minutes", hysteresis and per-patient overrides.

Public API:
- `apply_override(threshold, override) -> MetricThreshold`: a clinician's bound moves the whole side
  (every tier shifts by the same amount, so severity still steps up further out).
- `breach(threshold, side, series, now, active) -> Breach | None`: whether one side fires now. A tier fires
  once the value has been outside its bound for `hold_minutes` (so does a step up to a worse tier); an open
  alert (`active`) keeps firing at the mildest tier until the value is back inside by more than
  `hysteresis`, so a value resting on the edge does not flap. A value older
  than `max_age_minutes` fires nothing.
- `threshold_rule_id(metric, side) -> str`: "threshold:<metric>:<low|high>".
- `run_start(series, bound, side) -> datetime | None`: since when the latest values have been outside `bound`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from rules.core.model import Series
from rules.core.ruleset import HighBound, LowBound, MetricThreshold, ThresholdOverride
from vward.domain.alerts import Severity

Side = Literal["low", "high"]
SIDES: tuple[Side, Side] = ("low", "high")


@dataclass(frozen=True, slots=True)
class Breach:
    """Why a threshold fires: the value, the bound it crossed and for how long it has been outside."""

    severity: Severity
    value: float
    bound: float
    measured_at: datetime
    outside_since: datetime


def threshold_rule_id(metric: str, side: Side) -> str:
    return f"threshold:{metric}:{side}"


def apply_override(threshold: MetricThreshold | None, override: ThresholdOverride) -> MetricThreshold:
    """The patient's thresholds with the override's bounds; a side the rule set lacks alerts at MEDIUM."""
    low = list(threshold.low) if threshold else []
    high = list(threshold.high) if threshold else []
    if override.low is not None:
        shift = override.low - low[0].at_or_below if low else 0.0
        low = [LowBound(at_or_below=b.at_or_below + shift, severity=b.severity) for b in low] or [
            LowBound(at_or_below=override.low, severity=Severity.MEDIUM)
        ]
    if override.high is not None:
        shift = override.high - high[0].at_or_above if high else 0.0
        high = [HighBound(at_or_above=b.at_or_above + shift, severity=b.severity) for b in high] or [
            HighBound(at_or_above=override.high, severity=Severity.MEDIUM)
        ]
    if threshold is None:
        return MetricThreshold(metric=override.metric, low=low, high=high)
    return threshold.model_copy(update={"low": low, "high": high})


def _bounds(threshold: MetricThreshold, side: Side) -> list[tuple[float, Severity]]:
    if side == "low":
        return [(b.at_or_below, b.severity) for b in threshold.low]
    return [(b.at_or_above, b.severity) for b in threshold.high]


def _outside(value: float, bound: float, side: Side, margin: float) -> bool:
    return value <= bound + margin if side == "low" else value >= bound - margin


def run_start(series: Series, bound: float, side: Side) -> datetime | None:
    """When the latest uninterrupted run of values outside `bound` began (None: the latest is inside)."""
    start = None
    for measured_at, value in reversed(series):
        if not _outside(value, bound, side, 0.0):
            break
        start = measured_at
    return start


def breach(
    threshold: MetricThreshold, side: Side, series: Series, *, now: datetime, active: bool = False
) -> Breach | None:
    """The most severe tier of `side` that fires now, or None."""
    if not series:
        return None
    measured_at, value = series[-1]
    if threshold.max_age_minutes is not None and now - measured_at > timedelta(minutes=threshold.max_age_minutes):
        return None
    hold = timedelta(minutes=threshold.hold_minutes)
    bounds = _bounds(threshold, side)
    fired: Breach | None = None
    for bound, severity in bounds:
        since = run_start(series, bound, side)
        if since is None:
            break
        if now - since >= hold:
            fired = Breach(severity, value, bound, measured_at, since)
    if fired is None and active and bounds and _outside(value, bounds[0][0], side, threshold.hysteresis):
        bound, severity = bounds[0]
        fired = Breach(severity, value, bound, measured_at, run_start(series, bound, side) or measured_at)
    return fired
