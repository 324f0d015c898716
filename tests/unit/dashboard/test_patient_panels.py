"""Patient-view panels built from API answers: overrides with expiry, the audit trail, the monitoring plan."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dashboard.pages.patient import (
    AUDIT,
    NOTES,
    OVERRIDES,
    audit_table,
    devices_panel,
    event_detail,
    header,
    notes_list,
    overrides_table,
    timeline_key,
)
from dashboard.stays import stays_panel
from tests.unit.dashboard import test_worklist_rows
from tests.unit.dashboard.builders import NOW as ALERT_NOW
from tests.unit.dashboard.builders import alert
from vward.contract.alerts import AlertEvent
from vward.contract.episodes import Episode, PatientEpisodes
from vward.contract.patients import PatientDetail
from vward.domain.episodes import Outcome, Source

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def texts(component: object) -> str:
    return str(component.to_plotly_json())  # type: ignore[attr-defined]


def test_an_expired_override_is_flagged_for_review_and_a_live_one_shows_its_expiry() -> None:
    set_at = {"patient_id": 7, "created_at": "2026-11-20T09:00:00+00:00"}
    overrides = OVERRIDES.validate_python(
        [
            set_at
            | {
                "id": 1,
                "metric": "spo2",
                "low": 88.0,
                "high": None,
                "reason": "COPD",
                "expires_at": "2026-11-25T09:00:00+00:00",
                "created_by": "dr-a",
            },
            set_at
            | {
                "id": 2,
                "metric": "heart_rate",
                "low": None,
                "high": 125.0,
                "reason": "AF",
                "expires_at": "2026-11-22T09:00:00+00:00",
                "created_by": "dr-b",
            },
        ]
    )
    table = texts(overrides_table(overrides, "Europe/London", NOW))
    assert "low 88" in table
    assert "until 25 Nov 09:00" in table
    assert "⚠ expired 22 Nov 09:00: review" in table
    assert "high 125" in table


def test_no_overrides_says_the_rule_set_applies() -> None:
    assert "rule set's bounds apply" in texts(overrides_table([], "UTC", NOW))


def test_the_audit_trail_names_who_did_what_in_ward_time() -> None:
    entries = AUDIT.validate_python(
        [
            {
                "at": "2026-07-01T08:05:00+00:00",
                "username": "nurse1",
                "role": "clinician",
                "action": "alert.acknowledge",
                "object_type": "alert",
                "object_id": "80",
            }
        ]
    )
    table = texts(audit_table(entries, "Europe/London"))
    assert "01 Jul 09:05" in table
    assert "nurse1 (clinician)" in table
    assert "alert.acknowledge" in table
    assert "No reads or actions recorded yet." in texts(audit_table([], "UTC"))


def detail(**fields: Any) -> PatientDetail:
    summary = test_worklist_rows.summary()
    return PatientDetail(summary=summary, news2_parameters={}, observations=[], devices=[], **fields)


def test_the_monitoring_plan_reads_as_hours() -> None:
    plan = detail(monitoring_plan={"spo2": 4.0, "weight": 0.5})
    panel = texts(devices_panel(plan, "UTC", NOW))
    assert "every 4 h" in panel
    assert "every 0.5 h" in panel
    assert "No plan recorded." in texts(devices_panel(detail(monitoring_plan={}), "UTC", NOW))


def test_notes_show_author_and_ward_time_in_the_order_given_and_an_empty_record_says_so() -> None:
    notes = NOTES.validate_python(
        [
            {"id": 2, "at": "2026-11-23T09:30:00+00:00", "author": "nurse-b", "text": "Called; feels better."},
            {"id": 1, "at": "2026-07-01T08:00:00+00:00", "author": "dr-a", "text": "Started furosemide."},
        ]
    )
    shown = texts(notes_list(notes, "Europe/London"))
    assert shown.index("Called; feels better.") < shown.index("Started furosemide.")
    assert "23 Nov 09:30 · nurse-b" in shown
    assert "01 Jul 09:00 · dr-a" in shown  # British Summer Time
    assert "No notes yet." in texts(notes_list([], "Europe/London"))


def test_the_records_alerts_put_what_needs_acting_on_first() -> None:
    high_old = alert(1).model_copy(update={"severity": 3, "opened_at": ALERT_NOW.replace(hour=ALERT_NOW.hour - 2)})
    medium_new = alert(2).model_copy(update={"severity": 2, "opened_at": ALERT_NOW})
    resolved_high = alert(3, state="resolved").model_copy(update={"severity": 3, "opened_at": ALERT_NOW})
    ordered = sorted([medium_new, resolved_high, high_old], key=timeline_key)
    assert [a.id for a in ordered] == [1, 2, 3]


def test_an_escalation_event_reads_its_tiers_and_targets_as_words() -> None:
    event = AlertEvent(
        at=datetime(2026, 12, 3, 18, 41, tzinfo=UTC),
        kind="escalated",
        actor="rules-worker",
        from_state="open",
        to_state="escalated",
        severity=3,
        detail={"tiers": [1], "targets": ["doctor", "emergency_team"]},
    )
    shown = event_detail(event, "Europe/London")
    assert "tiers: 1 · targets: doctor, emergency team" in shown
    assert "[" not in shown


def test_a_snooze_and_a_resolution_read_in_ward_time_and_words() -> None:
    def shown(kind: str, detail: dict[str, object]) -> str:
        at = datetime(2026, 12, 3, 18, 41, tzinfo=UTC)
        event = AlertEvent(at=at, kind=kind, actor="n", from_state=None, to_state=None, severity=2, detail=detail)
        return event_detail(event, "Europe/London")

    snoozed = shown("snoozed", {"reason": "on the phone", "until": "2026-12-03T19:11:00.476462+00:00"})
    assert "until: 03 Dec 19:11" in snoozed
    assert "+00:00" not in snoozed
    resolved = shown("resolved", {"outcome_code": "treated_at_home", "outcome": "settled after inhaler"})
    assert "note: settled after inhaler" in resolved
    assert "outcome: Treated or advised at home" in resolved
    assert "outcome code" not in resolved


def _episodes(discharged: bool) -> PatientEpisodes:
    admitted, ended = datetime(2026, 11, 20, 9, 0, tzinfo=UTC), datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    stay = Episode(
        id=3,
        ward="Ward A",
        team=None,
        pathway="general",
        source=Source.COMMUNITY,
        admitted_at=admitted,
        discharged_at=ended if discharged else None,
        outcome=Outcome.COMPLETED if discharged else None,
        outcome_reason=None,
    )
    return PatientEpisodes(patient_id=7, episodes=[stay], events=[])


def test_a_discharged_record_says_discharged_in_its_header_and_stays_not_on_the_ward() -> None:
    base = test_worklist_rows.summary()
    closed = base.model_copy(update={"discharged_at": datetime(2026, 11, 23, 9, 30, tzinfo=UTC)})
    detail = PatientDetail(summary=closed, news2_parameters={}, observations=[], devices=[], monitoring_plan={})
    shown = texts(header(detail, NOW, "UTC"))
    assert "Discharged" in shown
    assert "discharged 23 Nov 09:30" in shown
    assert "Discharged" not in texts(header(detail.model_copy(update={"summary": base}), NOW, "UTC"))
    stays = texts(stays_panel(_episodes(discharged=True), "UTC"))
    assert "Discharged from Ward A 23 Nov 09:30, monitoring completed; admitted 20 Nov 09:00 (first stay)." in stays
    assert "On Ward A since" not in stays
    assert "On Ward A since 20 Nov 09:00 (first stay)." in texts(stays_panel(_episodes(discharged=False), "UTC"))
