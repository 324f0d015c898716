"""The ward list's order, worst first: what a nurse should look at next.

Public API: `TriageFacts` (one patient's summary), `triage_key(facts) -> tuple` (ascending = worst first)
and `order(patients) -> list[TriageFacts]`. Precedence: the most severe open alert (muted ones count: they
are shown, not hidden), then the NEWS2 band, where an incomplete score ranks above a complete low one
because unknown is not reassuring, then the score, a red score, the stalest data, the longest-waiting
alert, and the patient id so the order is stable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from rules.core.news2 import Band
from vward.domain.alerts import Severity

_BAND_RANK = {Band.HIGH: 5, Band.MEDIUM: 4, Band.LOW_MEDIUM: 3, Band.LOW: 1}
_INCOMPLETE_RANK = 2  # between low-medium and low: missing data needs a look, a real low-medium more so


@dataclass(frozen=True, slots=True)
class TriageFacts:
    patient_id: int
    top_severity: Severity | None = None  # of the patient's unresolved alerts
    news2_score: int | None = None
    news2_band: Band | None = None
    news2_complete: bool = False
    news2_applicable: bool = True
    red_score: bool = False
    last_reading_at: datetime | None = None
    oldest_alert_at: datetime | None = None


def _band_rank(facts: TriageFacts) -> int:
    if facts.news2_band is not None:
        return _BAND_RANK[facts.news2_band]
    return _INCOMPLETE_RANK if facts.news2_applicable and not facts.news2_complete else 0


def triage_key(facts: TriageFacts) -> tuple[int, int, int, int, float, float, int]:
    """Sort key; ascending order puts the patient who most needs attention first."""
    severity = -1 if facts.top_severity is None else int(facts.top_severity)
    score = -1 if facts.news2_score is None else facts.news2_score
    # No reading at all is the stalest data there is.
    last = facts.last_reading_at.timestamp() if facts.last_reading_at else float("-inf")
    oldest = facts.oldest_alert_at.timestamp() if facts.oldest_alert_at else float("inf")
    return (-severity, -_band_rank(facts), -score, -int(facts.red_score), last, oldest, facts.patient_id)


def order(patients: Iterable[TriageFacts]) -> list[TriageFacts]:
    return sorted(patients, key=triage_key)
