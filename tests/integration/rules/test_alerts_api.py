"""The alerts API: filtered pages, detail with events, and audited actions through the core lifecycle."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from rules.worker import RulesWorker
from tests.integration.rules.api import rules_api
from tests.integration.rules.helpers import NEWS2_HIGH, NEWS2_SIX, admitted_patient, record_readings
from vward.domain.alerts import Role
from vward.domain.metrics import Metric
from vward.domain.readings import ReadingValue
from vward.settings import Settings

pytestmark = pytest.mark.integration


async def _alerted_patient(
    settings: Settings, pool: asyncpg.Pool, values: dict[Metric, ReadingValue], ward: str
) -> tuple[int, int]:
    """A patient of `ward` with an open news2 alert; returns (patient_id, alert_id)."""
    now = datetime.now(UTC)
    patient_id, device_id = await admitted_patient(pool, now - timedelta(hours=1), ward=ward)
    await record_readings(pool, patient_id, device_id, values, now)
    await RulesWorker(settings, pool).drain()
    alert_id = await pool.fetchval(
        "SELECT id FROM alerts WHERE patient_id = $1 AND rule_id = 'news2' AND state <> 'resolved'", patient_id
    )
    assert alert_id is not None
    return patient_id, alert_id


def _ward() -> str:
    return f"AlertWard-{uuid.uuid4().hex[:6]}"


async def _audit_actions(pool: asyncpg.Pool, alert_id: int) -> list[str]:
    rows = await pool.fetch(
        "SELECT action FROM audit_log WHERE object_type = 'alert' AND object_id = $1 AND username <> 'rules-worker'"
        " ORDER BY id",
        str(alert_id),
    )
    return [r["action"] for r in rows]


async def test_list_filters_and_detail_shows_events(settings: Settings, db_pool: asyncpg.Pool) -> None:
    ward = _ward()
    patient_id, alert_id = await _alerted_patient(settings, db_pool, NEWS2_HIGH, ward)
    async with rules_api(settings, db_pool, Role.CLINICIAN, (ward,)) as api:
        page = (await api.get("/api/v1/alerts", params={"patient_id": patient_id, "state": "open"})).json()
        assert [a["id"] for a in page["items"] if a["rule_id"] == "news2"] == [alert_id]
        assert all(a["patient_id"] == patient_id for a in page["items"])
        high = (await api.get("/api/v1/alerts", params={"patient_id": patient_id, "severity": 3})).json()
        assert {a["severity_name"] for a in high["items"]} == {"high"}
        assert (await api.get("/api/v1/alerts", params={"page_size": 201})).status_code == 422
        detail = (await api.get(f"/api/v1/alerts/{alert_id}")).json()
    assert detail["escalation_policy"]["name"] == "urgent"
    assert [e["kind"] for e in detail["events"]] == ["opened"]
    assert await _audit_actions(db_pool, alert_id) == ["alert.read"]


async def test_acknowledge_then_resolve_records_actor_events_and_audit(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    ward = _ward()
    patient_id, alert_id = await _alerted_patient(settings, db_pool, NEWS2_HIGH, ward)
    mrn = await db_pool.fetchval("SELECT mrn FROM patients WHERE id = $1", patient_id)
    async with rules_api(settings, db_pool, Role.CLINICIAN, (ward,)) as api:
        listed = (await api.get("/api/v1/alerts", params={"patient_id": patient_id})).json()["items"][0]
        assert listed["allowed_actions"] == ["acknowledge", "escalate", "resolve"]  # high: never snoozed
        assert (listed["patient"]["id"], listed["patient"]["mrn"]) == (patient_id, mrn)
        acked = await api.post(f"/api/v1/alerts/{alert_id}/acknowledge", json={"note": "on my way"})
        assert acked.status_code == 200, acked.text
        assert acked.json()["state"] == "acknowledged"
        assert acked.json()["acknowledged_by"] == "clinician-tester"
        assert acked.json()["allowed_actions"] == ["escalate", "resolve"]
        again = await api.post(f"/api/v1/alerts/{alert_id}/acknowledge")
        assert again.status_code == 409
        no_outcome = await api.post(f"/api/v1/alerts/{alert_id}/resolve", json={"outcome": "reviewed"})
        assert no_outcome.status_code == 422  # a code is required: free text alone cannot be counted
        other_unsaid = await api.post(f"/api/v1/alerts/{alert_id}/resolve", json={"outcome_code": "other"})
        assert other_unsaid.status_code == 422, other_unsaid.text
        resolved = await api.post(
            f"/api/v1/alerts/{alert_id}/resolve",
            json={"outcome_code": "treated_at_home", "outcome": "reviewed, oxygen started"},
        )
        assert resolved.status_code == 200, resolved.text
    body = resolved.json()
    assert (body["state"], body["outcome_code"], body["outcome"], body["resolved_by"]) == (
        "resolved",
        "treated_at_home",
        "reviewed, oxygen started",
        "clinician-tester",
    )
    assert body["allowed_actions"] == []
    events = await db_pool.fetch("SELECT kind, actor FROM alert_events WHERE alert_id = $1 ORDER BY id", alert_id)
    assert [(e["kind"], e["actor"]) for e in events] == [
        ("opened", "rules-worker"),
        ("acknowledged", "clinician-tester"),
        ("note", "clinician-tester"),
        ("resolved", "clinician-tester"),
    ]
    assert await _audit_actions(db_pool, alert_id) == ["alert.acknowledge", "alert.resolve"]


async def test_snooze_is_refused_at_high_severity_and_needs_reason_and_expiry(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    ward = _ward()
    _, high_id = await _alerted_patient(settings, db_pool, NEWS2_HIGH, ward)
    _, medium_id = await _alerted_patient(settings, db_pool, NEWS2_SIX, ward)
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    async with rules_api(settings, db_pool, Role.CLINICIAN, (ward,)) as api:
        refused = await api.post(f"/api/v1/alerts/{high_id}/snooze", json={"reason": "busy", "until": until})
        no_reason = await api.post(f"/api/v1/alerts/{medium_id}/snooze", json={"until": until})
        extra = await api.post(
            f"/api/v1/alerts/{medium_id}/snooze", json={"reason": "r", "until": until, "forever": True}
        )
        snoozed = await api.post(
            f"/api/v1/alerts/{medium_id}/snooze", json={"reason": "seen by GP today", "until": until}
        )
    assert refused.status_code == 409
    assert "high-severity alert cannot be snoozed" in refused.json()["detail"]
    assert no_reason.status_code == 422
    assert extra.status_code == 422
    assert snoozed.status_code == 200, snoozed.text
    assert snoozed.json()["state"] == "snoozed"
    assert snoozed.json()["snooze_reason"] == "seen by GP today"


async def test_alerts_outside_the_wards_and_actions_by_viewers_are_refused(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    ward = _ward()
    _, alert_id = await _alerted_patient(settings, db_pool, NEWS2_HIGH, ward)
    async with rules_api(settings, db_pool, Role.CLINICIAN, ("SomeOtherWard",)) as api:
        assert (await api.get(f"/api/v1/alerts/{alert_id}")).status_code == 404
        assert (await api.post(f"/api/v1/alerts/{alert_id}/acknowledge")).status_code == 404
        listed = (await api.get("/api/v1/alerts", params={"page_size": 200})).json()
        assert alert_id not in [a["id"] for a in listed["items"]]
    async with rules_api(settings, db_pool, Role.VIEWER, (ward,)) as api:
        assert (await api.get(f"/api/v1/alerts/{alert_id}")).status_code == 200
        assert (await api.post(f"/api/v1/alerts/{alert_id}/acknowledge")).status_code == 403
    state = await db_pool.fetchval("SELECT state FROM alerts WHERE id = $1", alert_id)
    assert state == "open"


async def test_escalating_by_hand_tells_the_next_tier_now(settings: Settings, db_pool: asyncpg.Pool) -> None:
    ward = _ward()
    notifying = settings.model_copy(update={"notify_webhook_url": "http://127.0.0.1:9/unused"})
    _, alert_id = await _alerted_patient(notifying, db_pool, NEWS2_HIGH, ward)
    async with rules_api(notifying, db_pool, Role.CLINICIAN, (ward,)) as api:
        escalated = await api.post(f"/api/v1/alerts/{alert_id}/escalate", json={"note": "no response from nurse"})
    assert escalated.status_code == 200, escalated.text
    assert (escalated.json()["state"], escalated.json()["escalation_tier"]) == ("escalated", 2)
    sent = await db_pool.fetch(
        "SELECT target, payload->>'event' AS event FROM notification_outbox WHERE alert_id = $1 ORDER BY id", alert_id
    )
    assert [(s["target"], s["event"]) for s in sent] == [("ward_nurse", "opened"), ("doctor", "escalated")]


async def test_the_list_is_the_inbox_order_and_a_viewer_is_offered_no_actions(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    """Worst first, then whoever has waited longest: the order the inbox shows, so that with more alerts
    than a page the longest-waiting never fall off it."""
    ward = _ward()
    _, older = await _alerted_patient(settings, db_pool, NEWS2_SIX, ward)
    _, newer = await _alerted_patient(settings, db_pool, NEWS2_SIX, ward)
    _, high = await _alerted_patient(settings, db_pool, NEWS2_HIGH, ward)
    await db_pool.execute(
        "UPDATE alerts SET opened_at = now() - (CASE id WHEN $1 THEN 90 ELSE 10 END) * interval '1 minute'"
        " WHERE id = ANY($2::bigint[])",
        older,
        [older, newer, high],
    )
    async with rules_api(settings, db_pool, Role.VIEWER, (ward,)) as api:
        page = (await api.get("/api/v1/alerts", params={"state": "open", "page_size": 2})).json()
        rest = (await api.get("/api/v1/alerts", params={"state": "open", "page_size": 2, "page": 2})).json()
    news2 = [a for a in page["items"] + rest["items"] if a["rule_id"] == "news2"]
    assert [a["id"] for a in news2] == [high, older, newer]
    assert all(a["allowed_actions"] == [] for a in news2)


async def test_a_resolved_concern_is_not_raised_again_by_the_same_press(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    ward = _ward()
    now = datetime.now(UTC)
    patient_id, device_id = await admitted_patient(db_pool, now - timedelta(hours=1), ward=ward)
    await record_readings(db_pool, patient_id, device_id, {Metric.PATIENT_CONCERN: True}, now - timedelta(minutes=5))
    worker = RulesWorker(settings, db_pool)
    await worker.drain()
    concern = await db_pool.fetchval(
        "SELECT id FROM alerts WHERE patient_id = $1 AND rule_id = 'patient_concern' AND state = 'open'", patient_id
    )
    assert concern is not None
    async with rules_api(settings, db_pool, Role.CLINICIAN, (ward,)) as api:
        resolved = await api.post(
            f"/api/v1/alerts/{concern}/resolve", json={"outcome_code": "reviewed_no_action", "outcome": "phoned"}
        )
        assert resolved.status_code == 200, resolved.text
    await record_readings(db_pool, patient_id, device_id, {Metric.HEART_RATE: 72.0}, now)  # anything new
    await worker.drain()
    rows = await db_pool.fetch(
        "SELECT state FROM alerts WHERE patient_id = $1 AND rule_id = 'patient_concern'", patient_id
    )
    assert [r["state"] for r in rows] == ["resolved"]
