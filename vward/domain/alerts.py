"""Alert values shared by rules, storage, API and dashboard."""

from __future__ import annotations

import enum


class AlertState(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class Severity(enum.IntEnum):
    """Ordered so that max() picks the worst; names are what people see."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3


class Role(enum.StrEnum):
    CLINICIAN = "clinician"
    OPS = "ops"
    ADMIN = "admin"
    VIEWER = "viewer"
