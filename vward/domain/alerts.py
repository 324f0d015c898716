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


class ResolveOutcome(enum.StrEnum):
    """Why a person closed an alert: a coded list (docs/clinical-rules.md, "Closing an alert") so that the
    ward can count what its alerts led to, with free text for the detail; "other" must say what."""

    REVIEWED_NO_ACTION = "reviewed_no_action"
    TREATED_AT_HOME = "treated_at_home"
    ESCALATED_TO_HOSPITAL = "escalated_to_hospital"
    USUAL_FOR_PATIENT = "usual_for_patient"
    ARTEFACT_OR_DEVICE = "artefact_or_device"
    OTHER = "other"


OUTCOME_LABELS: dict[ResolveOutcome, str] = {
    ResolveOutcome.REVIEWED_NO_ACTION: "Reviewed: patient well, no action needed",
    ResolveOutcome.TREATED_AT_HOME: "Treated or advised at home",
    ResolveOutcome.ESCALATED_TO_HOSPITAL: "Escalated to hospital or the acute team",
    ResolveOutcome.USUAL_FOR_PATIENT: "Usual values for this patient",
    ResolveOutcome.ARTEFACT_OR_DEVICE: "Measurement artefact or device problem",
    ResolveOutcome.OTHER: "Other (say what in the note)",
}
