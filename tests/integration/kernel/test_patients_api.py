"""The patients API: admissions, bindings, the worst-first triage list, scoping and audit rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from tests.support.api import api_client
from vward.domain.alerts import Role
from vward.settings import Settings

pytestmark = pytest.mark.integration


def _ward() -> str:
    return f"Ward-{uuid.uuid4().hex[:6]}"


async def _admit(client: object, ward: str, **extra: object) -> int:
    body = {"mrn": f"MRN-{uuid.uuid4().hex[:10]}", "display_name": "Test Patient", "ward": ward, **extra}
    response = await client.post("/api/v1/patients", json=body)  # type: ignore[attr-defined]
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _score(pool: asyncpg.Pool, patient_id: int, score: int | None, band: str | None) -> None:
    await pool.execute(
        "INSERT INTO patient_scores (patient_id, score, band, complete, computed_at) VALUES ($1, $2, $3, $4, now())",
        patient_id,
        score,
        band,
        score is not None,
    )


async def test_triage_list_is_worst_first(settings: Settings, db_pool: asyncpg.Pool) -> None:
    ward = _ward()
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
        low, high, incomplete, medium = [await _admit(client, ward) for _ in range(4)]
        await _score(db_pool, low, 1, "low")
        await _score(db_pool, high, 8, "high")
        await _score(db_pool, incomplete, None, None)
        await _score(db_pool, medium, 5, "medium")
        response = await client.get("/api/v1/patients")
    assert response.status_code == 200
    # An incomplete score ranks above a complete low one: unknown is not reassuring.
    assert [p["id"] for p in response.json()] == [high, medium, incomplete, low]


async def test_the_band_ranks_first_and_an_alert_within_it(settings: Settings, db_pool: asyncpg.Pool) -> None:
    """The documented clinical order: a NEWS2 6 outranks a NEWS2 2 with a high alert; within a band the
    alert counts. (A NEWS2 4 with a high alert ranked above two NEWS2 6 red-score patients on the demo.)"""
    ward = _ward()
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
        alerted, scored, alerted_low, plain_low = [await _admit(client, ward) for _ in range(4)]
        await _score(db_pool, scored, 6, "medium")
        await _score(db_pool, alerted, 2, "low")
        await _score(db_pool, plain_low, 2, "low")
        await _score(db_pool, alerted_low, 2, "low")
        now = datetime.now(UTC)
        for patient, severity in ((alerted, 3), (alerted_low, 1)):
            await db_pool.execute(
                "INSERT INTO alerts (patient_id, rule_id, rule_set_name, rule_set_version, severity, state, title,"
                " opened_at, updated_at) VALUES ($1, 'patient_concern', 'default', 1, $2, 'open', 'Unwell', $3, $3)",
                patient,
                severity,
                now,
            )
        rows = (await client.get("/api/v1/patients")).json()
    assert [p["id"] for p in rows] == [scored, alerted, alerted_low, plain_low]
    assert rows[1]["open_alerts"] == 1
    assert rows[1]["top_severity"] == 3


def _scored(value: float) -> dict[str, object]:
    """A parameter as the rules worker stores it (`ParameterScore.to_json`)."""
    return {"value": value, "score": 0, "status": "ok", "age_minutes": 1.0, "measured_at": None}


async def test_the_list_and_the_record_show_the_last_four_hours(settings: Settings, db_pool: asyncpg.Pool) -> None:
    """The score and vitals as they stood 4 hours ago come from the score history (a row per change):
    the last row before the window, not a newer one."""
    ward = _ward()
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
        patient = await _admit(client, ward)
        await db_pool.execute(
            "INSERT INTO patient_scores (patient_id, score, band, complete, parameters, computed_at)"
            " VALUES ($1, 6, 'medium', true, $2, now())",
            patient,
            {m: _scored(v) for m, v in (("respiratory_rate", 24.0), ("spo2", 92.0), ("heart_rate", 88.0))},
        )
        for hours, score, rr in ((6, 2, 16.0), (5, 3, 18.0), (1, 5, 22.0)):
            await db_pool.execute(
                "INSERT INTO score_history (patient_id, computed_at, score, band, complete, parameters)"
                " VALUES ($1, now() - $2 * interval '1 hour', $3, 'low', true, $4)",
                patient,
                hours,
                score,
                {"respiratory_rate": {"value": rr}, "spo2": {"value": 96.0}, "heart_rate": {"value": 84.0}},
            )
        (listed,) = (await client.get("/api/v1/patients")).json()
        record = (await client.get(f"/api/v1/patients/{patient}")).json()
    assert listed["news2_then"] == 3
    assert listed["trends"] == {"respiratory_rate": "rising", "spo2": "falling", "heart_rate": "steady"}
    assert record["summary"]["trends"] == listed["trends"]


async def test_patient_outside_the_users_wards_is_not_found(settings: Settings, db_pool: asyncpg.Pool) -> None:
    mine, other = _ward(), _ward()
    async with api_client(settings, db_pool, Role.ADMIN) as admin:
        foreign = await _admit(admin, other)
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(mine,)) as client:
        assert (await client.get(f"/api/v1/patients/{foreign}")).status_code == 404
        assert (await client.get(f"/api/v1/patients/{foreign}/readings")).status_code == 404
        assert foreign not in [p["id"] for p in (await client.get("/api/v1/patients")).json()]
        assert (await client.get("/api/v1/patients/999999999")).status_code == 404


async def test_a_readings_window_at_the_end_of_time_is_refused_not_a_server_error(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    ward = _ward()
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
        patient_id = await _admit(client, ward)
        url = f"/api/v1/patients/{patient_id}/readings"
        for bound in ("until=0001-01-01T00:00:00Z", "since=9999-12-31T23:59:59Z"):
            response = await client.get(f"{url}?{bound}")
            assert response.status_code == 422, response.text
            assert "years 1900-9998" in response.text
        assert (await client.get(f"{url}?until=2026-11-23T12:00:00Z")).status_code == 200


async def test_reads_and_actions_are_audited(settings: Settings, db_pool: asyncpg.Pool) -> None:
    ward = _ward()
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
        patient_id = await _admit(client, ward, pathway="copd", spo2_scale=2)
        bound = await client.post(
            f"/api/v1/patients/{patient_id}/devices", json={"device_id": f"ox-{patient_id}", "kind": "oximeter"}
        )
        assert bound.status_code == 201
        detail = await client.get(f"/api/v1/patients/{patient_id}", headers={"X-Request-ID": "req-42"})
        assert detail.status_code == 200
        assert detail.json()["summary"]["spo2_scale"] == 2
        assert [d["id"] for d in detail.json()["devices"]] == [f"ox-{patient_id}"]
    rows = await db_pool.fetch("SELECT action, request_id FROM audit_log WHERE patient_id = $1 ORDER BY id", patient_id)
    assert [r["action"] for r in rows] == ["patient.admit", "device.bind", "patient.read"]
    assert rows[-1]["request_id"] == "req-42"


async def test_discharge_ends_bindings_and_leaves_the_list(settings: Settings, db_pool: asyncpg.Pool) -> None:
    ward = _ward()
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
        patient_id = await _admit(client, ward)
        device_id = f"bp-{patient_id}"
        await client.post(f"/api/v1/patients/{patient_id}/devices", json={"device_id": device_id, "kind": "bp_cuff"})
        done = {"outcome": "completed"}
        assert (await client.post(f"/api/v1/patients/{patient_id}/discharge", json=done)).status_code == 204
        assert (await client.post(f"/api/v1/patients/{patient_id}/discharge", json=done)).status_code == 409
        assert (await client.get("/api/v1/patients")).json() == []
        # The record stays readable: the nurse reviewing a discharge, the team seeing a readmission's history.
        record = await client.get(f"/api/v1/patients/{patient_id}")
        assert record.status_code == 200, record.text
        assert record.json()["summary"]["discharged_at"] is not None
        assert record.json()["summary"]["overdue"] == []
        assert record.json()["devices"] == []
    open_bindings = await db_pool.fetchval(
        "SELECT count(*) FROM device_bindings WHERE device_id = $1 AND upper_inf(valid)", device_id
    )
    assert open_bindings == 0


async def test_a_device_cannot_be_bound_to_two_patients_at_once(db_pool: asyncpg.Pool) -> None:
    from vward.domain.patients import DeviceKind
    from vward.storage.episodes import Identity, Stay, admit
    from vward.storage.patients import register_device

    now = datetime.now(UTC)
    a = (await admit(db_pool, Identity(f"M-{uuid.uuid4().hex}", "A"), Stay("W"), now, "test")).patient_id
    b = (await admit(db_pool, Identity(f"M-{uuid.uuid4().hex}", "B"), Stay("W"), now, "test")).patient_id
    device_id = f"sc-{uuid.uuid4().hex[:8]}"
    await register_device(db_pool, device_id, DeviceKind.SCALE)
    await db_pool.execute(
        "INSERT INTO device_bindings (device_id, patient_id, valid) VALUES ($1, $2, tstzrange($3, NULL))",
        device_id,
        a,
        now,
    )
    with pytest.raises(asyncpg.ExclusionViolationError):
        await db_pool.execute(
            "INSERT INTO device_bindings (device_id, patient_id, valid) VALUES ($1, $2, tstzrange($3, NULL))",
            device_id,
            b,
            now,
        )


async def test_auth_and_unknown_paths(settings: Settings, db_pool: asyncpg.Pool) -> None:
    async with api_client(settings, db_pool, role=None) as anonymous:
        assert (await anonymous.get("/api/v1/patients")).status_code == 401
        bad = await anonymous.post("/api/v1/auth/token", data={"username": "nobody", "password": "x"})
        assert bad.status_code == 401
        unknown = await anonymous.get("/api/v1/no-such-thing")
        assert unknown.status_code == 404
        assert unknown.headers["content-type"].startswith("application/json")
        assert (await anonymous.get("/healthz")).json() == {"status": "ok"}
    async with api_client(settings, db_pool, Role.OPS) as ops:
        admitted = await ops.post("/api/v1/patients", json={"mrn": "X1", "display_name": "X", "ward": "W"})
        assert admitted.status_code == 403


async def test_vital_series_summarise_a_dense_stream_and_keep_its_extremes(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    """A minute of 5-second heart rates with one spike: one bucket, the spike as its maximum, the median
    unmoved; a reading from a clock too far ahead is left out, as the rules leave it out."""
    ward = _ward()
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
        patient = await _admit(client, ward)
        start = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
        rows = [(f"hr-{i}", 160.0 if i == 5 else 72.0 + i % 2, start + i * timedelta(seconds=5), []) for i in range(12)]
        rows.append(("hr-future", 250.0, start + timedelta(seconds=30), ["future"]))
        await db_pool.executemany(
            "INSERT INTO readings (device_id, msg_id, metric, value, measured_at, received_at, patient_id, flags)"
            " VALUES ('dev-x', $1, 'heart_rate', $2, $3, $3, $4, $5)",
            [(m, v, at, patient, flags) for m, v, at, flags in rows],
        )
        window = {"since": start.isoformat(), "until": (start + timedelta(minutes=5)).isoformat()}
        answer = await client.get(
            f"/api/v1/patients/{patient}/vital-series", params={**window, "metric": ["heart_rate", "spo2"]}
        )
        too_many = await client.get(
            f"/api/v1/patients/{patient}/vital-series",
            params={"metric": "heart_rate", "since": "2020-01-01T00:00:00Z", "step_minutes": 1},
        )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["series"]["spo2"] == []
    (bucket,) = body["series"]["heart_rate"]
    assert (bucket["minimum"], bucket["maximum"], bucket["median"], bucket["readings"]) == (72.0, 160.0, 72.5, 12)
    assert too_many.status_code == 422
    audit = await db_pool.fetch(
        "SELECT action FROM audit_log WHERE patient_id = $1 AND action = 'vital_series.read'", patient
    )
    assert len(audit) == 1


async def test_a_plan_change_is_audited_and_re_evaluates_the_patient(settings: Settings, db_pool: asyncpg.Pool) -> None:
    ward = _ward()
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
        patient = await _admit(client, ward, monitoring_plan={"systolic_bp": 12})
        await db_pool.execute("DELETE FROM eval_queue WHERE patient_id = $1", patient)
        changed = await client.put(
            f"/api/v1/patients/{patient}/monitoring-plan",
            json={"monitoring_plan": {"systolic_bp": 4, "weight": 24}, "reason": "BP unstable after diuretic"},
        )
        unknown = await client.put(
            f"/api/v1/patients/{patient}/monitoring-plan", json={"monitoring_plan": {"mood": 4}, "reason": "x"}
        )
        unexplained = await client.put(
            f"/api/v1/patients/{patient}/monitoring-plan", json={"monitoring_plan": {"weight": 24}, "reason": ""}
        )
        record = (await client.get(f"/api/v1/patients/{patient}")).json()
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=("elsewhere",)) as other:
        foreign = await other.put(
            f"/api/v1/patients/{patient}/monitoring-plan", json={"monitoring_plan": {}, "reason": "not mine"}
        )
    assert changed.status_code == 200, changed.text
    assert (unknown.status_code, unexplained.status_code, foreign.status_code) == (422, 422, 404)
    assert record["monitoring_plan"] == {"systolic_bp": 4.0, "weight": 24.0}
    (audit,) = await db_pool.fetch(
        "SELECT detail FROM audit_log WHERE patient_id = $1 AND action = 'patient.plan_change'", patient
    )
    assert audit["detail"]["before"] == {"systolic_bp": 12}
    assert audit["detail"]["after"] == {"systolic_bp": 4.0, "weight": 24.0}
    assert audit["detail"]["reason"] == "BP unstable after diuretic"
    assert await db_pool.fetchval("SELECT reason FROM eval_queue WHERE patient_id = $1", patient) == "plan"
