"""Clock skew: readings from the future or the distant past are stored and flagged, never dropped."""

from __future__ import annotations

from datetime import datetime, timedelta

FUTURE = "future"  # measured more than FUTURE_TOLERANCE after it was received
LATE = "late"  # measured more than LATE_AFTER before it was received

FUTURE_TOLERANCE = timedelta(minutes=5)
LATE_AFTER = timedelta(hours=24)

_NONE: frozenset[str] = frozenset()
_FUTURE = frozenset({FUTURE})
_LATE = frozenset({LATE})


def skew_flags(measured_at: datetime, received_at: datetime) -> frozenset[str]:
    """The flags a reading carries given the device's and the platform's clocks."""
    if measured_at > received_at + FUTURE_TOLERANCE:
        return _FUTURE
    if measured_at < received_at - LATE_AFTER:
        return _LATE
    return _NONE
