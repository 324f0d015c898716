"""Bedside entry and the record around it: observations stored like a device's readings, notes, the
monitoring plan in the patient detail, and the patient's audit trail."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from ingest.core.skew import FUTURE
from rules.service import seed_default_ruleset
from tests.support.api import api_client
from tests.support.waiting import finishes
from vward.domain.alerts import Role
from vward.domain.metrics import Metric
from vward.domain.readings import Reading
from vward.settings import Settings
from vward.storage.evaluation import EVAL_CHANNEL
from vward.storage.readings import insert_for_patient

pytestmark = pytest.mark.integration


def _ward() -> str:
    return f"Bedside-{uuid.uuid4().hex[:6]}"


async def _admit(client: httpx.AsyncClient, ward: str, **extra: Any) -> int:
    body = {"mrn": f"BS-{uuid.uuid4().hex[:10]}", "display_name": "Bedside Patient", "ward": ward, **extra}
    response = await client.post("/api/v1/patients", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _admitted_by(pool: asyncpg.Pool, patient: int) -> str:
    """The signed-in user's name, as the audit log recorded their admission of the patient."""
    name: str = await pool.fetchval(
        "SELECT username FROM audit_log WHERE patient_id = $1 AND action = 'patient.admit'", patient
    )
    return name


async def test_observations_are_stored_like_device_readings(settings: Settings, db_pool: asyncpg.Pool) -> None:
    ward = _ward()
    notified = asyncio.Event()
    listener = await asyncpg.connect(settings.database_url)
    await listener.add_listener(EVAL_CHANNEL, lambda *_: notified.set())
    try:
        async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
            patient = await _admit(client, ward)
            body = {
                "readings": [
                    {"metric": "consciousness", "value": "V"},
                    {"metric": "on_oxygen", "value": True},
                    {"metric": "spo2", "value": 93},
                ]
            }
            response = await client.post(f"/api/v1/patients/{patient}/observations", json=body)
            detail = (await client.get(f"/api/v1/patients/{patient}")).json()
            readings = (await client.get(f"/api/v1/patients/{patient}/readings")).json()
            async with db_pool.acquire() as conn:
                await seed_default_ruleset(conn)
            chart = await client.get(f"/api/v1/patients/{patient}/news2-chart")
        await finishes(notified.wait(), within=30, what="the rules worker notified of the bedside reading")
    finally:
        await listener.close()
    assert response.status_code == 201, response.text
    assert response.json()["stored"] == 3
    username = await _admitted_by(db_pool, patient)
    rows = await db_pool.fetch(
        "SELECT metric, value, value_text, device_id FROM readings WHERE patient_id = $1 ORDER BY metric", patient
    )
    assert [tuple(r) for r in rows] == [
        ("consciousness", None, "V", f"clinician:{username}"),
        ("on_oxygen", 1.0, None, f"clinician:{username}"),
        ("spo2", 93.0, None, f"clinician:{username}"),
    ]
    # A boolean stays a boolean end to end: stored as 1.0, served as true (1.0 blanked every record).
    served = {"consciousness": "V", "on_oxygen": True, "spo2": 93.0}
    assert {o["metric"]: o["value"] for o in detail["observations"]} == served
    assert {r["metric"]: r["value"] for r in readings} == served
    assert chart.status_code == 200, chart.text
    (column,) = chart.json()["columns"]
    cells = {c["parameter"]: c for c in column["cells"]}
    assert (cells["on_oxygen"]["value"], cells["on_oxygen"]["score"]) == (True, 2)
    assert (cells["consciousness"]["score"], cells["spo2"]["score"]) == (3, 2)
    assert (column["score"], column["complete"], column["lower_bound"]) == (None, False, 7)
    assert await db_pool.fetchval("SELECT count(*) FROM eval_queue WHERE patient_id = $1", patient) == 1
    audit = await db_pool.fetch(
        "SELECT username, object_type FROM audit_log WHERE patient_id = $1 AND action = 'observations.record'", patient
    )
    assert [tuple(a) for a in audit] == [(username, "readings")]


async def test_an_older_entry_is_kept_but_does_not_replace_the_latest(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    ward = _ward()
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
        patient = await _admit(client, ward, admitted_at=(datetime.now(UTC) - timedelta(days=1)).isoformat())
        url = f"/api/v1/patients/{patient}/observations"
        newer = await client.post(url, json={"readings": [{"metric": "spo2", "value": 95}]})
        earlier = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        older = await client.post(url, json={"readings": [{"metric": "spo2", "value": 90}], "measured_at": earlier})
    assert (newer.status_code, older.status_code) == (201, 201)
    assert await db_pool.fetchval("SELECT count(*) FROM readings WHERE patient_id = $1", patient) == 2
    assert (
        await db_pool.fetchval(
            "SELECT value FROM latest_observations WHERE patient_id = $1 AND metric = 'spo2'", patient
        )
        == 95.0
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"readings": [{"metric": "spo2", "value": 30}]}, "spo2 outside"),
        ({"readings": [{"metric": "consciousness", "value": "X"}]}, "consciousness takes one of A,C,V,P,U"),
        ({"readings": [{"metric": "on_oxygen", "value": "yes"}]}, "on_oxygen takes true or false"),
        ({"readings": [{"metric": "heart_rate", "value": True}]}, "heart_rate takes a number"),
        ({"readings": [{"metric": "mood", "value": 3}]}, "Input should be"),
        ({"readings": []}, "at least 1 item"),
        (
            {"readings": [{"metric": "spo2", "value": 95}, {"metric": "spo2", "value": 96}]},
            "each metric may appear once",
        ),
        ({"readings": [{"metric": "spo2", "value": 95, "unit": "%"}]}, "Extra inputs are not permitted"),
        ({"readings": [{"metric": "spo2", "value": 95}], "measured_at": "2099-01-01T00:00:00Z"}, "in the future"),
        ({"readings": [{"metric": "spo2", "value": 95}], "measured_at": "2026-01-01T00:00:00"}, "timezone"),
    ],
)
async def test_invalid_entries_are_refused_with_a_message(
    settings: Settings, db_pool: asyncpg.Pool, body: dict[str, Any], message: str
) -> None:
    ward = _ward()
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
        patient = await _admit(client, ward)
        response = await client.post(f"/api/v1/patients/{patient}/observations", json=body)
    assert response.status_code == 422
    assert message in response.text
    assert await db_pool.fetchval("SELECT count(*) FROM readings WHERE patient_id = $1", patient) == 0


async def test_entries_need_a_clinician_and_an_admitted_patient(settings: Settings, db_pool: asyncpg.Pool) -> None:
    ward = _ward()
    body = {"readings": [{"metric": "consciousness", "value": "A"}]}
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
        patient = await _admit(client, ward)
        before = await client.post(
            f"/api/v1/patients/{patient}/observations",
            json={**body, "measured_at": (datetime.now(UTC) - timedelta(days=2)).isoformat()},
        )
        await client.post(f"/api/v1/patients/{patient}/discharge", json={"outcome": "completed"})
        discharged = await client.post(f"/api/v1/patients/{patient}/observations", json=body)
    async with api_client(settings, db_pool, Role.VIEWER, wards=(ward,)) as viewer:
        refused = await viewer.post(f"/api/v1/patients/{patient}/observations", json=body)
    assert (before.status_code, discharged.status_code, refused.status_code) == (409, 409, 403)


async def test_notes_newest_first_written_by_clinicians_read_by_viewers(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    ward = _ward()
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
        patient = await _admit(client, ward)
        first = await client.post(f"/api/v1/patients/{patient}/notes", json={"text": "Family visited."})
        second = await client.post(f"/api/v1/patients/{patient}/notes", json={"text": "Oximeter refitted."})
        empty = await client.post(f"/api/v1/patients/{patient}/notes", json={"text": ""})
        nul = await client.post(f"/api/v1/patients/{patient}/notes", json={"text": "a\u0000b"})
    async with api_client(settings, db_pool, Role.VIEWER, wards=(ward,)) as viewer:
        listed = await viewer.get(f"/api/v1/patients/{patient}/notes")
        refused = await viewer.post(f"/api/v1/patients/{patient}/notes", json={"text": "viewer note"})
    assert (first.status_code, second.status_code, empty.status_code, nul.status_code) == (201, 201, 422, 422)
    assert listed.status_code == 200
    notes = listed.json()
    assert [n["text"] for n in notes] == ["Oximeter refitted.", "Family visited."]
    assert [n["id"] for n in notes] == [second.json()["id"], first.json()["id"]]
    assert {n["author"] for n in notes} == {first.json()["author"]}
    assert refused.status_code == 403
    actions = await db_pool.fetch(
        "SELECT action FROM audit_log WHERE patient_id = $1 AND action LIKE 'note%' ORDER BY id", patient
    )
    assert [a["action"] for a in actions] == ["note.add", "note.add", "notes.read"]


async def test_patient_detail_carries_the_monitoring_plan(settings: Settings, db_pool: asyncpg.Pool) -> None:
    ward = _ward()
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
        planned = await _admit(client, ward, monitoring_plan={"weight": 24, "spo2": 4})
        unplanned = await _admit(client, ward)
        with_plan = (await client.get(f"/api/v1/patients/{planned}")).json()
        without = (await client.get(f"/api/v1/patients/{unplanned}")).json()
    assert with_plan["monitoring_plan"] == {"weight": 24.0, "spo2": 4.0}
    assert without["monitoring_plan"] == {}


async def test_the_audit_trail_is_scoped_and_its_reading_audited(settings: Settings, db_pool: asyncpg.Pool) -> None:
    ward, other = _ward(), _ward()
    async with api_client(settings, db_pool, Role.ADMIN) as admin:
        foreign = await _admit(admin, other)
        everything = await admin.get("/api/v1/audit", params={"limit": 5})
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
        patient = await _admit(client, ward)
        await client.get(f"/api/v1/patients/{patient}")
        trail = await client.get("/api/v1/audit", params={"patient_id": patient})
        again = await client.get("/api/v1/audit", params={"patient_id": patient, "limit": 1})
        unscoped = await client.get("/api/v1/audit")
        outside = await client.get("/api/v1/audit", params={"patient_id": foreign})
    async with api_client(settings, db_pool, Role.VIEWER, wards=(ward,)) as viewer:
        viewer_read = await viewer.get("/api/v1/audit", params={"patient_id": patient})
    async with api_client(settings, db_pool, Role.OPS) as ops:
        ops_read = await ops.get("/api/v1/audit")
    assert everything.status_code == 200
    assert len(everything.json()) == 5
    assert trail.status_code == 200
    assert [e["action"] for e in trail.json()] == ["patient.read", "patient.admit"]
    assert set(trail.json()[0]) == {"at", "username", "role", "action", "object_type", "object_id"}
    assert [e["action"] for e in again.json()] == ["audit.read"]  # the first read of the trail, itself audited
    assert (unscoped.status_code, outside.status_code) == (403, 404)
    assert (viewer_read.status_code, ops_read.status_code) == (403, 403)
    reads = await db_pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE patient_id = $1 AND action = 'audit.read'", patient
    )
    assert reads == 2


async def test_the_news2_chart_scores_a_stream_by_its_median_as_the_worker_does(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    """A patch's heart rate every 5 s whose newest sample is an artefact (160 among 72s): the chart's cell is
    the window's median, 72, scoring 0, as the worker scores it; before, it scored the artefact's 3."""
    ward = _ward()
    now = datetime.now(UTC).replace(microsecond=0)
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
        patient = await _admit(client, ward, admitted_at=(now - timedelta(hours=2)).isoformat())
        rates = [72.0] * 11 + [160.0]
        readings = [
            Reading("patch-chart", f"m-{i}", Metric.HEART_RATE, v, now - timedelta(seconds=5 * (11 - i)), now)
            for i, v in enumerate(rates)
        ]
        async with db_pool.acquire() as conn, conn.transaction():
            await seed_default_ruleset(conn)
            await insert_for_patient(conn, patient, readings, not_latest_flag=FUTURE)
        chart = await client.get(f"/api/v1/patients/{patient}/news2-chart")
    assert chart.status_code == 200, chart.text
    cells = {c["parameter"]: c for c in chart.json()["columns"][-1]["cells"]}
    assert (cells["heart_rate"]["value"], cells["heart_rate"]["score"]) == (72.0, 0)
