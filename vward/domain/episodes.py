"""Episodes of care: how a stay on the virtual ward begins, what happens in it, and how it ends."""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum


class Source(StrEnum):
    """How a stay began. `community`: admitted instead of to hospital (an admission avoided);
    `step_down`: from an acute hospital bed, earlier than it would otherwise end; `transfer`: from another
    ward of the virtual ward, the same stay of care (never counted as an admission or a readmission)."""

    COMMUNITY = "community"
    STEP_DOWN = "step_down"
    TRANSFER = "transfer"


class Outcome(StrEnum):
    """How a stay ended, coded as virtual-ward programmes report it."""

    COMPLETED = "completed"
    ESCALATED_TO_HOSPITAL = "escalated_to_hospital"  # step-up to an acute bed
    DIED = "died"
    SELF_DISCHARGED = "self_discharged"
    TRANSFERRED = "transferred"  # to another ward of the virtual ward: a new stay opens there at once


class EventKind(StrEnum):
    ADMITTED = "admitted"
    STEPPED_DOWN = "stepped_down"
    TRANSFERRED = "transferred"
    TEAM_CHANGED = "team_changed"
    STEPPED_UP = "stepped_up"
    DISCHARGED = "discharged"


# The event that opens a stay from each source (a transfer's event sits on the stay it opens).
OPENING_EVENT = {
    Source.COMMUNITY: EventKind.ADMITTED,
    Source.STEP_DOWN: EventKind.STEPPED_DOWN,
    Source.TRANSFER: EventKind.TRANSFERRED,
}


def _normal(ward: str) -> str:
    return " ".join(ward.casefold().split())


def existing_spelling(ward: str, known: Collection[str]) -> str | None:
    """The known ward `ward` is a variant of (case, spacing), when it is not written the same: 'virtual ward a'
    beside 'Virtual Ward A' would start a second ward, splitting its patients, scope and figures."""
    if ward in known:
        return None
    return next((k for k in known if _normal(k) == _normal(ward)), None)
