"""Trend rules: a change within a time window (heart-failure weight gain) or away from the patient's baseline.

Public API: `trend(rule, series) -> dict | None`, the evidence (values, times, change) when the rule fires.
Windows end at the latest value: "2 kg in 3 days" compares it with the lowest value (for a rise) of the
72 hours before it. A baseline is the median of the `days` before the recent `exclude_hours`, compared
with the median of those recent hours (or the latest value when `exclude_hours` is 0).
"""

from __future__ import annotations

import bisect
import statistics
from datetime import datetime, timedelta
from typing import Any

from rules.core.model import Series
from rules.core.ruleset import BaselineChange, TrendRule, TrendWindow


def _since(series: Series, start: datetime) -> int:
    """Index of the first point at or after `start` (the series is oldest first)."""
    return bisect.bisect_left(series, start, key=lambda point: point[0])


def _window_change(window: TrendWindow, rising: bool, series: Series) -> dict[str, Any] | None:
    latest_at, latest = series[-1]
    recent = series[_since(series, latest_at - timedelta(hours=window.hours)) :]
    pick = min if rising else max
    from_at, from_value = pick(recent, key=lambda point: point[1])
    change = latest - from_value if rising else from_value - latest
    if change < window.change:
        return None
    return {
        "window_hours": window.hours,
        "threshold": window.change,
        "change": round(change, 3),
        "from_value": from_value,
        "from_at": from_at.isoformat(),
        "to_value": latest,
        "to_at": latest_at.isoformat(),
    }


def _baseline_change(baseline: BaselineChange, rising: bool, series: Series) -> dict[str, Any] | None:
    latest_at, latest = series[-1]
    recent_from = latest_at - timedelta(hours=baseline.exclude_hours)
    split = _since(series, recent_from)
    before = [v for _, v in series[_since(series, recent_from - timedelta(days=baseline.days)) : split]]
    if len(before) < baseline.min_samples:
        return None
    reference = statistics.median(before)
    current = statistics.median([v for _, v in series[split:]]) if baseline.exclude_hours else latest
    change = current - reference if rising else reference - current
    if baseline.change is not None:
        fires = change >= baseline.change
    else:
        fires = reference != 0 and 100 * change / abs(reference) >= (baseline.percent or 0)
    if not fires:
        return None
    return {
        "baseline": round(reference, 3),
        "baseline_samples": len(before),
        "current": round(current, 3),
        "change": round(change, 3),
        "threshold": baseline.change,
        "threshold_percent": baseline.percent,
        "to_at": latest_at.isoformat(),
    }


def trend(rule: TrendRule, series: Series) -> dict[str, Any] | None:
    """The first window (in the order the rule lists them) or the baseline change that fires, or None."""
    if not series:
        return None
    rising = rule.direction == "rise"
    if rule.baseline is not None:
        return _baseline_change(rule.baseline, rising, series)
    for window in rule.windows:
        evidence = _window_change(window, rising, series)
        if evidence is not None:
            return evidence
    return None
