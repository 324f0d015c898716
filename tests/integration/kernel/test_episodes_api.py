"""Episodes of care through the API: an admission never overwrites a patient, a readmission is a new stay,
devices move only when asked, transfers need both wards, and each step is an event on the timeline."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from tests.support.api import api_client
from tests.support.servers import create_database, drop_database
from vward.domain.alerts import Role
from vward.settings import Settings
from vward.storage.migrate import bundled_migrations, migrate

pytestmark = pytest.mark.integration


def _ward() -> str:
    return f"Ward-{uuid.uuid4().hex[:6]}"


def _admission(ward: str, mrn: str | None = None, **extra: object) -> dict[str, object]:
    body = {"mrn": mrn or f"MRN-{uuid.uuid4().hex[:10]}", "display_name": "Ada Stone", "ward": ward}
    return body | {"date_of_birth": "1950-03-04", "monitoring_plan": {"systolic_bp": 4}} | extra


async def _patient(pool: asyncpg.Pool, patient_id: int) -> asyncpg.Record:
    return await pool.fetchrow(
        "SELECT display_name, ward, pathway, spo2_scale, date_of_birth, monitoring_plan, discharged_at"
        " FROM patients WHERE id = $1",
        patient_id,
    )


async def test_admitting_an_mrn_with_an_open_stay_is_refused_and_changes_nothing(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    ward, elsewhere = _ward(), _ward()
    body = _admission(ward)
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
        first = await client.post("/api/v1/patients", json=body)
        patient_id = first.json()["id"]
        before = await _patient(db_pool, patient_id)
        again = await client.post(
            "/api/v1/patients",
            json=body | {"display_name": "Someone Else", "pathway": "copd", "spo2_scale": 2, "monitoring_plan": {}},
        )
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(elsewhere,)) as other:
        pulled = await other.post("/api/v1/patients", json=body | {"ward": elsewhere})
    assert first.status_code == 201
    assert first.json()["readmission"] is False
    assert again.status_code == 409
    assert f"already admitted as patient {patient_id} on ward {ward}" in again.json()["detail"]
    # another ward's clinician learns the MRN is taken and where, not whose record it is
    assert pulled.status_code == 409
    assert pulled.json()["detail"] == f"MRN is already admitted, on ward {ward}"
    assert await _patient(db_pool, patient_id) == before
    assert before["date_of_birth"] == date(1950, 3, 4)
    assert before["monitoring_plan"] == {"systolic_bp": 4}
    assert await db_pool.fetchval("SELECT count(*) FROM episodes WHERE patient_id = $1", patient_id) == 1


async def test_a_readmission_is_a_new_stay_and_keeps_the_old_one_and_its_record(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    ward = _ward()
    body = _admission(ward, admitted_at="2026-11-01T09:00:00Z")
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
        patient_id = (await client.post("/api/v1/patients", json=body)).json()["id"]
        await db_pool.execute(
            "INSERT INTO readings (device_id, msg_id, metric, value, measured_at, received_at, patient_id)"
            " VALUES ('ep-dev', 'm1', 'heart_rate', 88, '2026-11-02T10:00:00Z', now(), $1)",
            patient_id,
        )
        ended = await client.post(
            f"/api/v1/patients/{patient_id}/discharge",
            json={"outcome": "escalated_to_hospital", "reason": "chest pain", "at": "2026-11-03T12:00:00Z"},
        )
        early = await client.post("/api/v1/patients", json=body | {"admitted_at": "2026-11-03T11:00:00Z"})
        back = await client.post(
            "/api/v1/patients",
            json=body | {"admitted_at": "2026-11-10T09:00:00Z", "source": "step_down", "monitoring_plan": {}},
        )
        history = await client.get(f"/api/v1/patients/{patient_id}/episodes")
        readings = await client.get(
            f"/api/v1/patients/{patient_id}/readings",
            params={"since": "2026-11-01T00:00:00Z", "until": "2026-11-04T00:00:00Z"},
        )
    assert ended.status_code == 204
    assert early.status_code == 409
    assert "before the last discharge" in early.json()["detail"]
    assert back.status_code == 201, back.text
    assert back.json()["id"] == patient_id
    assert back.json()["readmission"] is True
    stays = history.json()["episodes"]
    assert [(s["outcome"], s["source"]) for s in stays] == [("escalated_to_hospital", "community"), (None, "step_down")]
    assert stays[0]["outcome_reason"] == "chest pain"
    kinds = [e["kind"] for e in history.json()["events"]]
    assert kinds == ["admitted", "stepped_up", "stepped_down"]
    assert [r["value"] for r in readings.json()] == [88.0]
    now = await _patient(db_pool, patient_id)
    assert now["discharged_at"] is None
    assert now["monitoring_plan"] == {}
    actions = await db_pool.fetch(
        "SELECT action FROM audit_log WHERE patient_id = $1 AND action LIKE 'patient.%' ORDER BY id", patient_id
    )
    assert [a["action"] for a in actions] == ["patient.admit", "patient.step_up", "patient.readmit"]


async def test_a_changed_identity_is_refused_until_changed_explicitly(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    ward = _ward()
    body = _admission(ward)
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
        patient_id = (await client.post("/api/v1/patients", json=body)).json()["id"]
        await client.post(f"/api/v1/patients/{patient_id}/discharge", json={"outcome": "completed"})
        renamed = await client.post("/api/v1/patients", json=body | {"display_name": "Ada Stone-Reyes"})
        unexplained = await client.patch(f"/api/v1/patients/{patient_id}", json={"display_name": "Ada Stone-Reyes"})
        changed = await client.patch(
            f"/api/v1/patients/{patient_id}", json={"display_name": "Ada Stone-Reyes", "reason": "married"}
        )
        readmitted = await client.post("/api/v1/patients", json=body | {"display_name": "Ada Stone-Reyes"})
    assert renamed.status_code == 409
    assert "recorded with a different name: check the MRN" in renamed.json()["detail"]
    assert unexplained.status_code == 422
    assert changed.status_code == 204
    assert readmitted.status_code == 201
    assert readmitted.json()["readmission"] is True
    audit = await db_pool.fetchrow(
        "SELECT detail FROM audit_log WHERE patient_id = $1 AND action = 'patient.identity_change'", patient_id
    )
    assert audit["detail"] == {"fields": ["display_name"], "reason": "married"}  # what changed, not the values


async def test_a_device_moves_only_when_asked_and_keeps_its_kind(settings: Settings, db_pool: asyncpg.Pool) -> None:
    ward = _ward()
    device = f"th-{uuid.uuid4().hex[:8]}"
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
        a = (await client.post("/api/v1/patients", json=_admission(ward))).json()["id"]
        b = (await client.post("/api/v1/patients", json=_admission(ward))).json()["id"]
        unnamed = await client.post(f"/api/v1/patients/{a}/devices", json={"device_id": device})
        first = await client.post(f"/api/v1/patients/{a}/devices", json={"device_id": device, "kind": "thermometer"})
        taken = await client.post(f"/api/v1/patients/{b}/devices", json={"device_id": device})
        relabelled = await client.post(
            f"/api/v1/patients/{b}/devices", json={"device_id": device, "kind": "patch", "transfer": True}
        )
        moved = await client.post(f"/api/v1/patients/{b}/devices", json={"device_id": device, "transfer": True})
    assert unnamed.status_code == 422
    assert first.status_code == 201
    assert taken.status_code == 409
    assert "transfer" in taken.json()["detail"]
    assert relabelled.status_code == 409
    assert "thermometer" in relabelled.json()["detail"]
    assert moved.status_code == 201
    assert moved.json()["moved_from"] == a
    assert await db_pool.fetchval("SELECT kind FROM devices WHERE id = $1", device) == "thermometer"
    bindings = await db_pool.fetch(
        "SELECT patient_id, lower(valid) AS since, upper(valid) AS until FROM device_bindings"
        " WHERE device_id = $1 ORDER BY id",
        device,
    )
    assert [r["patient_id"] for r in bindings] == [a, b]
    assert bindings[0]["until"] == bindings[1]["since"]  # the old binding ends at the instant the new begins
    assert bindings[1]["until"] is None


async def test_a_transfer_needs_both_wards_and_keeps_the_devices(settings: Settings, db_pool: asyncpg.Pool) -> None:
    north, south = _ward(), _ward()
    device = f"pt-{uuid.uuid4().hex[:8]}"
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(north,)) as nurse:
        patient_id = (await nurse.post("/api/v1/patients", json=_admission(north))).json()["id"]
        await nurse.post(f"/api/v1/patients/{patient_id}/devices", json={"device_id": device, "kind": "patch"})
        refused = await nurse.post(f"/api/v1/patients/{patient_id}/transfer", json={"ward": south})
        team = await nurse.post(f"/api/v1/patients/{patient_id}/transfer", json={"ward": north, "team": "Respiratory"})
        same = await nurse.post(f"/api/v1/patients/{patient_id}/transfer", json={"ward": north, "team": "Respiratory"})
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(north, south)) as lead:
        moved = await lead.post(f"/api/v1/patients/{patient_id}/transfer", json={"ward": south, "reason": "beds"})
        history = (await lead.get(f"/api/v1/patients/{patient_id}/episodes")).json()
        record = await lead.get(f"/api/v1/patients/{patient_id}")
    assert refused.status_code == 403
    assert team.status_code == 204
    assert same.status_code == 409
    assert moved.status_code == 204
    stays = history["episodes"]
    assert [(s["ward"], s["team"], s["source"], s["outcome"]) for s in stays] == [
        (north, "Respiratory", "community", "transferred"),
        (south, None, "transfer", None),
    ]
    assert stays[0]["discharged_at"] == stays[1]["admitted_at"]
    assert [e["kind"] for e in history["events"]] == ["admitted", "team_changed", "transferred"]
    assert (history["events"][-1]["from_ward"], history["events"][-1]["to_ward"]) == (north, south)
    assert record.json()["summary"]["ward"] == south
    assert [d["id"] for d in record.json()["devices"]] == [device]


async def test_existing_patients_become_first_episodes_without_loss() -> None:
    """Migration 0060 on a database with patients admitted (one discharged) before episodes existed."""
    name, dsn = await create_database()
    conn = await asyncpg.connect(dsn)
    try:
        before = [m for m in bundled_migrations() if m.version < "0060"]
        await migrate(conn, before)
        admitted = datetime(2026, 10, 1, 8, tzinfo=UTC)
        await conn.execute(
            "INSERT INTO patients (mrn, display_name, ward, pathway, spo2_scale, date_of_birth, monitoring_plan,"
            " admitted_at, discharged_at) VALUES"
            " ('OLD-1', 'Old One', 'A', 'copd', 2, '1940-01-01', '{\"weight\": 24}', $1, NULL),"
            " ('OLD-2', 'Old Two', 'B', 'general', 1, NULL, '{}', $1, $2)",
            admitted,
            admitted + timedelta(days=5),
        )
        await migrate(conn)
        rows = await conn.fetch(
            "SELECT p.mrn, e.ward, e.pathway, e.spo2_scale, e.monitoring_plan::text AS plan, e.admitted_at,"
            " e.discharged_at, e.outcome FROM episodes e JOIN patients p ON p.id = e.patient_id ORDER BY p.mrn"
        )
        events = await conn.fetch("SELECT kind FROM episode_events ORDER BY id")
    finally:
        await conn.close()
        await drop_database(name)
    assert [tuple(r) for r in rows] == [
        ("OLD-1", "A", "copd", 2, '{"weight": 24}', admitted, None, None),
        ("OLD-2", "B", "general", 1, "{}", admitted, admitted + timedelta(days=5), None),
    ]
    assert sorted(e["kind"] for e in events) == ["admitted", "admitted", "discharged"]


async def test_a_ward_written_differently_is_refused_not_started(settings: Settings, db_pool: asyncpg.Pool) -> None:
    """'WARD-AB12' beside 'Ward-ab12' would be a second ward: its own worklist filter, scope and figures."""
    ward, elsewhere = _ward(), _ward()
    async with api_client(settings, db_pool, Role.ADMIN) as admin:
        first = await admin.post("/api/v1/patients", json=_admission(ward))
        variant = await admin.post("/api/v1/patients", json=_admission(ward.upper()))
        other = (await admin.post("/api/v1/patients", json=_admission(elsewhere))).json()["id"]
        moved = await admin.post(f"/api/v1/patients/{other}/transfer", json={"ward": ward.upper()})
        into = await admin.post(f"/api/v1/patients/{other}/transfer", json={"ward": ward})
    assert first.status_code == 201
    assert variant.status_code == 409
    assert f"There is a ward '{ward}'" in variant.json()["detail"]
    assert moved.status_code == 409
    assert into.status_code == 204  # written as it is, the same ward is fine
    assert await db_pool.fetchval("SELECT count(*) FROM episodes WHERE ward = $1", ward.upper()) == 0
