"""The ward list puts the patient who most needs attention first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rules.core.news2 import Band
from rules.core.triage import TriageFacts, order
from tests.unit.rules.builders import NOW
from vward.domain.alerts import Severity


def ids(*facts: TriageFacts) -> list[int]:
    return [f.patient_id for f in order(reversed(facts))]


def complete(patient_id: int, score: int, band: Band, **more: object) -> TriageFacts:
    return TriageFacts(patient_id, news2_score=score, news2_band=band, news2_complete=True, **more)  # type: ignore[arg-type]


def test_open_alert_severity_comes_first() -> None:
    high_alert = complete(1, 2, Band.LOW, top_severity=Severity.HIGH)
    medium_alert = complete(2, 8, Band.HIGH, top_severity=Severity.MEDIUM)
    no_alert = complete(3, 9, Band.HIGH)
    assert ids(high_alert, medium_alert, no_alert) == [1, 2, 3]


def test_band_then_score_then_red_score() -> None:
    patients = [
        complete(1, 8, Band.HIGH),
        complete(2, 7, Band.HIGH),
        complete(3, 6, Band.MEDIUM, red_score=True),
        complete(4, 6, Band.MEDIUM),
        complete(5, 3, Band.LOW_MEDIUM),
        complete(6, 4, Band.LOW),
    ]
    assert ids(*patients) == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize(("band", "above_incomplete"), [(Band.LOW_MEDIUM, True), (Band.LOW, False)])
def test_incomplete_score_is_flagged_above_a_complete_low(band: Band, above_incomplete: bool) -> None:
    incomplete = TriageFacts(1, news2_complete=False)
    scored = complete(2, 3, band)
    assert ids(incomplete, scored) == ([2, 1] if above_incomplete else [1, 2])


def test_not_applicable_patients_rank_by_alerts_only() -> None:
    not_scored = TriageFacts(1, news2_applicable=False)
    low = complete(2, 0, Band.LOW)
    assert ids(not_scored, low) == [2, 1]


def test_stalest_data_then_longest_waiting_alert_then_id() -> None:
    fresh = complete(1, 1, Band.LOW, last_reading_at=NOW)
    stale = complete(2, 1, Band.LOW, last_reading_at=NOW - timedelta(hours=3))
    never = complete(3, 1, Band.LOW)
    assert ids(fresh, stale, never) == [3, 2, 1]
    waiting = complete(4, 1, Band.LOW, last_reading_at=NOW, oldest_alert_at=NOW - timedelta(hours=1))
    newer = complete(5, 1, Band.LOW, last_reading_at=NOW, oldest_alert_at=NOW)
    assert ids(newer, waiting, fresh) == [4, 5, 1]
