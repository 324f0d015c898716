"""The ward list's order, worst first: what a nurse should look at next.

Public API: `TriageFacts` (one patient's summary), `triage_key(facts) -> tuple` (ascending = worst first)
and `order(patients) -> list[TriageFacts]`.

The clinical order (docs/clinical-rules.md, "The worklist order"):
1. The NEWS2 band, a red score lifting 0-4 to low-medium (RCP chart 3). An incomplete set counts as at
   least the band its known parameters reach (a missing parameter can only add points), and never lower
   than "incomplete", which ranks between low-medium and low because unknown is not reassuring. A patient
   NEWS2 does not apply to (under 16, pregnant) ranks by their most severe open alert instead.
2. The score (an incomplete set's known part), then a red score.
3. The most severe open alert (muted ones count: they are shown, not hidden).
4. The longest-waiting alert.
5. The patient id, so that equal patients keep their places. Nothing that changes with every reading (the
   time of the last one) enters the key: rows move only when a patient's ranking changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from rules.core.news2 import Band, band_for
from vward.domain.alerts import Severity

_BAND_RANK = {Band.HIGH: 5, Band.MEDIUM: 4, Band.LOW_MEDIUM: 3, Band.LOW: 1}
_INCOMPLETE_RANK = 2  # between low-medium and low: missing data needs a look, a real low-medium more so
# Unscored patients (NEWS2 not validated for them): their alerts stand in for a band.
_SEVERITY_RANK = {Severity.HIGH: 5, Severity.MEDIUM: 4, Severity.LOW: 3, Severity.INFO: 0}


@dataclass(frozen=True, slots=True)
class TriageFacts:
    patient_id: int
    top_severity: Severity | None = None  # of the patient's unresolved alerts
    news2_score: int | None = None
    news2_band: Band | None = None
    news2_complete: bool = False
    news2_lower_bound: int | None = None  # an incomplete set's known part
    news2_applicable: bool = True
    red_score: bool = False
    oldest_alert_at: datetime | None = None


def _band_rank(facts: TriageFacts) -> int:
    if not facts.news2_applicable:
        return 0 if facts.top_severity is None else _SEVERITY_RANK[facts.top_severity]
    if facts.news2_band is not None:
        return _BAND_RANK[facts.news2_band]
    known = band_for(facts.news2_lower_bound or 0, facts.red_score)
    return max(_INCOMPLETE_RANK, _BAND_RANK[known] if known is not Band.LOW else 0)


def triage_key(facts: TriageFacts) -> tuple[int, int, int, int, float, int]:
    """Sort key; ascending order puts the patient who most needs attention first."""
    severity = -1 if facts.top_severity is None else int(facts.top_severity)
    score = facts.news2_score if facts.news2_score is not None else facts.news2_lower_bound
    oldest = facts.oldest_alert_at.timestamp() if facts.oldest_alert_at else float("inf")
    return (
        -_band_rank(facts),
        -(-1 if score is None else score),
        -int(facts.red_score),
        -severity,
        oldest,
        facts.patient_id,
    )


def order(patients: Iterable[TriageFacts]) -> list[TriageFacts]:
    return sorted(patients, key=triage_key)
