"""Ops' views of the platform: dead letters without their payloads, and the alert-burden meter by ward and
shift with patients named by id only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from tests.support.api import api_client
from vward.domain.alerts import Role
from vward.domain.patients import DeviceKind
from vward.settings import Settings
from vward.storage.dead_letter import DeadLetter, insert_dead_letters
from vward.storage.patients import register_device

pytestmark = pytest.mark.integration


async def test_device_clocks_list_the_devices_off_furthest_first_for_ops_only(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    tag = uuid.uuid4().hex[:8]
    now = datetime.now(UTC)
    clocks = {f"ck-fast-{tag}": (600_000, 599_960), f"ck-slow-{tag}": (-120_000, 0), f"ck-ok-{tag}": (None, 0)}
    async with db_pool.acquire() as conn:
        for device, (estimate, correction) in clocks.items():
            await register_device(conn, device, DeviceKind.PATCH)
            await conn.execute(
                "UPDATE devices SET clock_estimate_ms = $2, clock_correction_ms = $3, clock_estimated_at = $4"
                " WHERE id = $1",
                device,
                estimate,
                correction,
                now,
            )
    async with api_client(settings, db_pool, Role.OPS) as ops:
        listed = await ops.get("/api/v1/device-clocks")
    async with api_client(settings, db_pool, Role.CLINICIAN) as clinician:
        refused = await clinician.get("/api/v1/device-clocks")
    assert listed.status_code == 200
    ours = [c for c in listed.json() if c["device_id"].endswith(tag)]
    assert [(c["device_id"], c["offset_seconds"], c["corrected_seconds"]) for c in ours] == [
        (f"ck-fast-{tag}", 600.0, 599.96),
        (f"ck-slow-{tag}", -120.0, 0.0),
    ]
    assert refused.status_code == 403


async def test_dead_letters_for_ops_without_payloads(settings: Settings, db_pool: asyncpg.Pool) -> None:
    device = f"dl-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    letters = [
        DeadLetter(
            now - timedelta(minutes=i),
            f"vward/v1/devices/{device}/readings",
            device,
            reason,
            "detail",
            b'{"secret": "payload"}',
        )
        for i, reason in enumerate(["implausible", "bad_json", "implausible"])
    ]
    await insert_dead_letters(db_pool, letters)
    async with api_client(settings, db_pool, Role.OPS) as ops:
        newest = await ops.get("/api/v1/dead-letters", params={"device_id": device})
        implausible = await ops.get("/api/v1/dead-letters", params={"device_id": device, "reason": "implausible"})
        second_page = await ops.get("/api/v1/dead-letters", params={"device_id": device, "limit": 1, "offset": 1})
        too_many = await ops.get("/api/v1/dead-letters", params={"limit": 501})
        bad_device = await ops.get("/api/v1/dead-letters", params={"device_id": "a/b"})
    async with api_client(settings, db_pool, Role.CLINICIAN) as clinician:
        refused = await clinician.get("/api/v1/dead-letters")
    assert newest.status_code == 200
    rows = newest.json()
    assert [r["reason"] for r in rows] == ["implausible", "bad_json", "implausible"]
    assert set(rows[0]) == {"id", "received_at", "topic", "device_id", "reason", "detail", "payload_size"}
    assert rows[0]["payload_size"] == len(b'{"secret": "payload"}')
    assert "secret" not in newest.text
    assert len(implausible.json()) == 2
    assert [r["reason"] for r in second_page.json()] == ["bad_json"]
    assert (too_many.status_code, bad_device.status_code, refused.status_code) == (422, 422, 403)


async def _opened(pool: asyncpg.Pool, patient: int | None, rule: str, at: datetime) -> None:
    await pool.execute(
        "INSERT INTO alerts (patient_id, rule_id, rule_set_name, rule_set_version, severity, state, title, opened_at,"
        " updated_at, resolved_at, resolved_by) VALUES ($1, $2, 'default', 1, 2, 'resolved', 'Burden', $3, $3, $3,"
        " 'test')",
        patient,
        rule,
        at,
    )


async def test_alert_burden_by_ward_and_shift_with_patient_ids_only(settings: Settings, db_pool: asyncpg.Pool) -> None:
    ward = f"Burden-{uuid.uuid4().hex[:6]}"
    tz = ZoneInfo(settings.timezone)
    day = (datetime.now(tz) - timedelta(days=2)).date()
    noon, late, small_hours = (
        datetime(day.year, day.month, day.day, 12, tzinfo=tz),
        datetime(day.year, day.month, day.day, 22, tzinfo=tz),
        datetime(day.year, day.month, day.day, 3, tzinfo=tz) + timedelta(days=1),
    )
    async with api_client(settings, db_pool, Role.ADMIN) as admin:
        noisy, quiet = [
            (
                await admin.post(
                    "/api/v1/patients",
                    json={
                        "mrn": f"BRD-{uuid.uuid4().hex[:10]}",
                        "display_name": "Canary Burdenpatient",
                        "ward": ward,
                    },
                )
            ).json()["id"]
            for _ in range(2)
        ]
    for at in (noon, late, small_hours):
        await _opened(db_pool, noisy, "spo2_low", at)
    await _opened(db_pool, noisy, "news2_high", noon)
    await _opened(db_pool, quiet, "spo2_low", noon)
    await _opened(db_pool, quiet, "spo2_low", datetime.now(tz) - timedelta(days=10))  # outside the week
    async with api_client(settings, db_pool, Role.OPS, wards=(ward,)) as ops:
        response = await ops.get("/api/v1/alert-burden", params={"days": 7, "top": 50})
        too_long = await ops.get("/api/v1/alert-burden", params={"days": 32})
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as clinician:
        refused = await clinician.get("/api/v1/alert-burden")
    assert response.status_code == 200, response.text
    burden = response.json()
    mine = [s for s in burden["per_ward_shift"] if s["ward"] == ward]
    assert [(s["shift_start"], s["shift"], s["alerts"]) for s in mine] == [
        (day.isoformat(), "07:00-19:00", 3),
        (day.isoformat(), "19:00-07:00", 2),  # 03:00 the next morning belongs to the night that began on `day`
    ]
    assert burden["noisiest_patients"] == [{"patient_id": noisy, "alerts": 4}, {"patient_id": quiet, "alerts": 1}]
    # platform alerts (no patient) count in every ward's view, so other tests' may rank among the rules
    rules = [(r["rule_id"], r["alerts"]) for r in burden["noisiest_rules"]]
    assert rules.index(("spo2_low", 4)) < rules.index(("news2_high", 1))
    assert "Burdenpatient" not in response.text
    assert "BRD-" not in response.text
    assert (too_long.status_code, refused.status_code) == (422, 403)
    audited = await db_pool.fetchval(
        "SELECT detail FROM audit_log WHERE action = 'alerts.burden' AND role = 'ops' ORDER BY id DESC LIMIT 1"
    )
    assert audited["days"] == 7


async def _alert(pool: asyncpg.Pool, patient: int, opened: datetime, resolved: datetime, wavers: int) -> int:
    alert_id: int = await pool.fetchval(
        "INSERT INTO alerts (patient_id, rule_id, rule_set_name, rule_set_version, severity, state, title, opened_at,"
        " updated_at, resolved_at, resolved_by, wavers) VALUES ($1, 'news2', 'default', 1, 2, 'resolved', 'Burden',"
        " $2, $3, $3, 'test', $4) RETURNING id",
        patient,
        opened,
        resolved,
        wavers,
    )
    return alert_id


async def test_the_burden_meter_counts_state_changes_notifications_and_alerts_open_per_nurse(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    """Known answers: one alert open 12:00-15:00 with 2 state changes, a note and 2 notifications; one open
    18:00-20:00 across the 19:00 shift change; 3 nurses. Day shift: 4 alert-hours / 36 nurse-hours."""
    ward = f"Meter-{uuid.uuid4().hex[:6]}"
    tz = ZoneInfo(settings.timezone)
    day = (datetime.now(tz) - timedelta(days=2)).date()

    def at(hour: float) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(hours=hour)

    async with api_client(settings, db_pool, Role.ADMIN) as admin:
        patient = (
            await admin.post(
                "/api/v1/patients", json={"mrn": f"MTR-{uuid.uuid4().hex[:10]}", "display_name": "M", "ward": ward}
            )
        ).json()["id"]
    first = await _alert(db_pool, patient, at(12), at(15), wavers=3)
    await _alert(db_pool, patient, at(18), at(20), wavers=0)
    for kind, hour in [("opened", 12), ("cleared", 13), ("note", 13.5), ("returned", 14)]:
        await db_pool.execute(
            "INSERT INTO alert_events (alert_id, at, kind, actor) VALUES ($1, $2, $3, 'test')", first, at(hour), kind
        )
    for n, hour in enumerate((12, 12.5)):
        await db_pool.execute(
            "INSERT INTO notification_outbox (alert_id, idempotency_key, channel, target, payload, created_at)"
            " VALUES ($1, $2, 'app', 'ward_nurse', '{}', $3)",
            first,
            f"meter-{first}-{n}",
            at(hour),
        )
    async with api_client(settings, db_pool, Role.OPS, wards=(ward,)) as ops:
        burden = (await ops.get("/api/v1/alert-burden", params={"days": 7, "nurses": 3})).json()
    mine = {(s["shift_start"], s["shift"]): s for s in burden["per_ward_shift"] if s["ward"] == ward}
    shift_day, night = mine[(day.isoformat(), "07:00-19:00")], mine[(day.isoformat(), "19:00-07:00")]
    assert (shift_day["alerts"], shift_day["state_changes"], shift_day["notifications"]) == (2, 2, 2)
    assert (shift_day["open_alert_hours"], shift_day["open_per_nurse"]) == (4.0, round(4 / 36, 2))
    assert (night["alerts"], night["open_alert_hours"], night["open_per_nurse"]) == (0, 1.0, round(1 / 36, 2))
    assert burden["nurses_per_shift"] == 3
    assert burden["wavers"] >= 3
