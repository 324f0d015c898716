"""The ward list puts the patient who most needs attention first, in the documented clinical order."""

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


def incomplete(patient_id: int, known: int, **more: object) -> TriageFacts:
    return TriageFacts(patient_id, news2_lower_bound=known, **more)  # type: ignore[arg-type]


def test_the_band_comes_before_any_alert() -> None:
    """A NEWS2 4 with a high alert ranks below two NEWS2 6 red-score patients (found on the demo)."""
    four_with_high_alert = complete(1, 4, Band.LOW, top_severity=Severity.HIGH)
    six_red_a = complete(2, 6, Band.MEDIUM, red_score=True, top_severity=Severity.MEDIUM)
    six_red_b = complete(3, 6, Band.MEDIUM, red_score=True)
    assert ids(four_with_high_alert, six_red_a, six_red_b) == [2, 3, 1]


def test_band_then_score_then_red_score() -> None:
    patients = [
        complete(1, 8, Band.HIGH),
        complete(2, 7, Band.HIGH),
        complete(3, 6, Band.MEDIUM, red_score=True),
        complete(4, 6, Band.MEDIUM),
        complete(5, 4, Band.LOW_MEDIUM, red_score=True),
        complete(6, 3, Band.LOW_MEDIUM, red_score=True),
        complete(7, 4, Band.LOW),
    ]
    assert ids(*patients) == [1, 2, 3, 4, 5, 6, 7]


def test_within_a_band_and_score_the_worst_alert_then_the_longest_wait() -> None:
    high = complete(1, 5, Band.MEDIUM, top_severity=Severity.HIGH, oldest_alert_at=NOW)
    waiting = complete(2, 5, Band.MEDIUM, top_severity=Severity.MEDIUM, oldest_alert_at=NOW - timedelta(hours=1))
    newer = complete(3, 5, Band.MEDIUM, top_severity=Severity.MEDIUM, oldest_alert_at=NOW)
    none = complete(4, 5, Band.MEDIUM)
    assert ids(none, newer, waiting, high) == [1, 2, 3, 4]


@pytest.mark.parametrize(("band", "above_incomplete"), [(Band.LOW_MEDIUM, True), (Band.LOW, False)])
def test_incomplete_score_is_flagged_above_a_complete_low(band: Band, above_incomplete: bool) -> None:
    scored = complete(2, 3, band)
    assert ids(incomplete(1, 0), scored) == ([2, 1] if above_incomplete else [1, 2])


@pytest.mark.parametrize(("known", "place"), [(7, 0), (6, 1), (5, 1), (4, 2), (0, 2)])
def test_an_incomplete_set_ranks_as_at_least_the_band_its_known_part_reaches(known: int, place: int) -> None:
    """Missing data only adds points: known 7 with temperature missing is at least high, never 'incomplete'."""
    ward = [complete(1, 6, Band.MEDIUM), complete(2, 4, Band.LOW_MEDIUM, red_score=True)]
    ward.insert(place, incomplete(3, known))
    assert ids(*ward) == [p.patient_id for p in ward]


def test_a_red_score_lifts_an_incomplete_set_to_low_medium() -> None:
    red_partial = incomplete(1, 3, red_score=True)
    plain_partial = incomplete(2, 3)
    assert ids(plain_partial, complete(3, 2, Band.LOW), red_partial) == [1, 2, 3]


def test_not_applicable_patients_rank_by_their_alerts() -> None:
    """Pregnant or under 16: no NEWS2, so a high alert must still put them near the top."""
    unscored_high = TriageFacts(1, news2_applicable=False, top_severity=Severity.HIGH)
    unscored_quiet = TriageFacts(2, news2_applicable=False)
    medium = complete(3, 5, Band.MEDIUM)
    low = complete(4, 0, Band.LOW)
    assert ids(low, unscored_quiet, medium, unscored_high) == [1, 3, 4, 2]


def test_the_order_ignores_when_the_last_reading_came_and_ties_keep_their_places() -> None:
    """Rows swapped on 10 of 12 refreshes when the last reading's time broke ties; the id breaks them now."""
    patients = [complete(i, 1, Band.LOW) for i in (5, 3, 9, 1)]
    assert ids(*patients) == [1, 3, 5, 9]
