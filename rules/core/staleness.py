"""No-data rules: readings overdue against the monitoring plan, devices offline, batteries running low.

Public API (each returns the evidence dict when the rule fires, else None):
- `is_overdue(last, admitted_at, due_after, now)`: the rule's test on its own (the worklist uses it too).
- `overdue(plan, latest, admitted_at, now)`: none of the plan's metrics measured within `every_hours` plus
  grace; before the first reading the clock runs from admission.
- `offline(device, offline_after, now)`: the device said it is offline, or has not been seen for too long.
- `battery_low(device, below)`: battery under the rule set's percentage.
- `clock_skewed(device, beyond)`: the device's clock runs ahead or behind by more than `beyond`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from rules.core.model import DeviceStatus
from rules.core.ruleset import OverduePlan
from vward.domain.readings import Observation


def _minutes(span: timedelta) -> float:
    return round(span.total_seconds() / 60, 1)


def is_overdue(last: datetime | None, admitted_at: datetime, due_after: timedelta, now: datetime) -> bool:
    """The overdue rule itself, shared by the alert and the worklist's "overdue": older than `due_after`
    (exactly at it is not yet overdue), the clock running from admission before the first reading."""
    return now - (last or admitted_at) > due_after


def overdue(
    plan: OverduePlan, latest: Mapping[str, Observation], admitted_at: datetime, now: datetime
) -> dict[str, Any] | None:
    times = [latest[m].measured_at for m in plan.metrics if m in latest]
    last = max(times, default=None)
    since = last or admitted_at
    if not is_overdue(last, admitted_at, plan.due_after(), now):
        return None
    return {
        "metrics": [str(m) for m in plan.metrics],
        "expected_every_hours": plan.every_hours,
        "grace_minutes": plan.grace_minutes,
        "last_measured_at": None if last is None else last.isoformat(),
        "overdue_minutes": _minutes(now - since - timedelta(hours=plan.every_hours)),
    }


def offline(device: DeviceStatus, offline_after: timedelta, now: datetime) -> dict[str, Any] | None:
    silent = None if device.last_seen_at is None else now - device.last_seen_at
    if device.online is not False and (silent is None or silent <= offline_after):
        return None
    return {
        "device_id": device.device_id,
        "kind": device.kind,
        "reported_offline": device.online is False,
        "last_seen_at": None if device.last_seen_at is None else device.last_seen_at.isoformat(),
        "silent_minutes": None if silent is None else _minutes(silent),
        "offline_after_minutes": _minutes(offline_after),
    }


def clock_skewed(device: DeviceStatus, beyond: timedelta) -> dict[str, Any] | None:
    """Ahead: its times are corrected, but the clock needs setting. Behind: its readings reach the platform
    late, or its clock is slow (one-way times cannot tell which); they keep their times and look old."""
    estimate = device.clock_estimate
    if estimate is None or abs(estimate) <= beyond:
        return None
    return {
        "device_id": device.device_id,
        "kind": device.kind,
        "offset_seconds": round(estimate.total_seconds(), 1),
        "corrected_seconds": round(device.clock_correction.total_seconds(), 1),
        "beyond_seconds": round(beyond.total_seconds(), 1),
    }


def battery_low(device: DeviceStatus, below: int) -> dict[str, Any] | None:
    if device.battery is None or device.battery >= below:
        return None
    return {"device_id": device.device_id, "kind": device.kind, "battery": device.battery, "below": below}
