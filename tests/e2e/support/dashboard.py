"""The platform's HTTP app (API + dashboard) on a loopback port, with deterministic ward fixtures.

The app runs in its own thread and event loop with its own pool; tests seed rows through `run()`,
which executes a coroutine on that loop, so no asyncpg object ever crosses loops.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Coroutine, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import uvicorn

from rules.service import seed_default_ruleset
from tests.support.api import TEST_SECRET
from tests.support.servers import free_port
from tests.support.waiting import budget, wait_until
from vward.api.passwords import hash_password
from vward.bootstrap import build_app
from vward.domain.alerts import Role
from vward.settings import Settings
from vward.storage.partitions import ensure_partitions
from vward.storage.pool import create_pool
from vward.storage.users import upsert_user

T = TypeVar("T")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


@dataclass
class Platform:
    base_url: str
    loop: asyncio.AbstractEventLoop
    pool: asyncpg.Pool
    ward: str
    patients: dict[str, int] = field(default_factory=dict)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(budget(timeout))

    def user(self, role: Role, wards: tuple[str, ...] | None = None) -> tuple[str, str]:
        """A user of `role` scoped to `wards` (default: this run's ward); returns (username, password)."""
        username = f"{role.value}-{uuid.uuid4().hex[:6]}"
        password = uuid.uuid4().hex
        self.run(
            upsert_user(
                self.pool,
                username=username,
                password_hash=hash_password(password),
                role=role,
                wards=wards or (self.ward,),
            )
        )
        return username, password

    def seed(self, patients: Iterable[SeedPatient]) -> None:
        """Admit `patients` into this run's ward, as they are at this moment; ids in `self.patients`."""
        now = datetime.now(UTC)
        for p in patients:
            self.patients[p.name] = self.run(seed_patient(self.pool, self.ward, p, now))

    def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return self.run(self.pool.fetch(sql, *args))


@contextmanager
def serve_platform(database_url: str, timezone: str = "Europe/London") -> Iterator[Platform]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="dashboard-platform", daemon=True)
    thread.start()

    def run(coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(60)

    pool = run(create_pool(database_url, min_size=1, max_size=8))
    port = free_port()
    settings = Settings(database_url=database_url, secret_key=TEST_SECRET, http_port=port, timezone=timezone)
    app = build_app(settings, pool, TEST_SECRET)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")
    )
    serving = asyncio.run_coroutine_threadsafe(server.serve(), loop)
    try:

        def started() -> bool:
            assert not serving.done(), "the platform stopped while starting"
            return server.started

        wait_until(started, within=60, what="the platform serving", every=0.05)
        platform = Platform(f"http://127.0.0.1:{port}", loop, pool, f"W-{uuid.uuid4().hex[:6]}")
        platform.run(_prepare(pool))
        yield platform
    finally:
        server.should_exit = True
        serving.result(20)
        run(pool.close())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


async def _prepare(pool: asyncpg.Pool) -> None:
    """What the rules worker does on its first start: partitions ahead and the default rule set published."""
    async with pool.acquire() as conn:
        await ensure_partitions(conn, datetime.now(UTC))
        await seed_default_ruleset(conn)


@dataclass(frozen=True)
class SeedPatient:
    """One patient's state as the rules worker would have left it."""

    name: str
    score: int | None
    band: str | None
    complete: bool = True
    missing: tuple[str, ...] = ()
    red: bool = False
    alert_severity: int | None = None
    alert_title: str = "NEWS2 raised"
    device_offline: bool = False
    battery: int = 80


async def seed_patient(pool: asyncpg.Pool, ward: str, p: SeedPatient, now: datetime) -> int:
    """Admit the patient and write score, latest observations, 24 h of readings, a device and an alert."""
    async with pool.acquire() as conn, conn.transaction():
        pid: int = await conn.fetchval(
            "INSERT INTO patients (mrn, display_name, ward, admitted_at, monitoring_plan, date_of_birth)"
            " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            f"MRN-{uuid.uuid4().hex[:10]}",
            p.name,
            ward,
            now - timedelta(days=3),
            {"spo2": 4, "weight": 24},
            date(1958, 5, 1),
        )
        parameters = seeded_parameters(p, now - timedelta(minutes=12))
        await conn.execute(
            "INSERT INTO patient_scores (patient_id, score, band, complete, missing, parameters, computed_at,"
            " red_score, applicable, lower_bound) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true, $9)",
            pid,
            p.score,
            p.band,
            p.complete,
            list(p.missing),
            parameters,
            now - timedelta(minutes=2),
            p.red,
            None if p.complete else p.score,
        )
        device = f"dev-{uuid.uuid4().hex[:8]}"
        await conn.execute(
            "INSERT INTO devices (id, kind, online, battery, last_seen_at) VALUES ($1, 'patch', $2, $3, $4)",
            device,
            not p.device_offline,
            p.battery,
            now - timedelta(minutes=12),
        )
        await conn.execute(
            "INSERT INTO device_bindings (device_id, patient_id, valid) VALUES ($1, $2, tstzrange($3, NULL))",
            device,
            pid,
            now - timedelta(days=3),
        )
        for metric, base in (
            ("heart_rate", 80.0),
            ("respiratory_rate", 18.0),
            ("spo2", 95.0),
            ("temperature", 37.2),
            ("systolic_bp", 120.0),
        ):
            rows = [
                (
                    device,
                    f"m-{metric}-{i}",
                    metric,
                    base + (i % 7) - 3,
                    now - timedelta(minutes=30 * i),
                    now - timedelta(minutes=30 * i),
                    pid,
                )
                for i in range(48)
            ]
            await conn.executemany(
                "INSERT INTO readings (device_id, msg_id, metric, value, measured_at, received_at, patient_id)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                rows,
            )
            await conn.execute(
                "INSERT INTO latest_observations (patient_id, metric, value, measured_at, device_id)"
                " VALUES ($1, $2, $3, $4, $5)",
                pid,
                metric,
                base,
                now - timedelta(minutes=12),
                device,
            )
        await _seed_spot_checks(conn, pid, device, now)
        if p.alert_severity is not None:
            opened = now - timedelta(minutes=25)
            alert_id = await conn.fetchval(
                "INSERT INTO alerts (patient_id, rule_id, rule_set_name, rule_set_version, severity, state, title,"
                " reason, opened_at, updated_at, next_escalation_at)"
                " VALUES ($1, 'news2.band', 'default', 1, $2, 'open', $3, $4, $5, $5, $6) RETURNING id",
                pid,
                p.alert_severity,
                p.alert_title,
                {"score": p.score},
                opened,
                now + timedelta(minutes=35),
            )
            await conn.execute(
                "INSERT INTO alert_events (alert_id, at, kind, actor, to_state, severity)"
                " VALUES ($1, $2, 'opened', 'rules-worker', 'open', $3)",
                alert_id,
                opened,
                p.alert_severity,
            )
    return pid


def seeded_parameters(p: SeedPatient, measured_at: datetime) -> dict[str, dict[str, Any]]:
    """The score's per-parameter detail in the shape the rules worker stores (`ParameterScore.to_json`)."""
    values: dict[str, Any] = {
        "respiratory_rate": 22.0,
        "spo2": 95.0,
        "on_oxygen": False,
        "systolic_bp": 120.0,
        "heart_rate": 80.0,
        "consciousness": "A",
        "temperature": 37.2,
    }
    scores = {"respiratory_rate": 3 if p.red else 2, "spo2": 1}
    return {
        name: (
            {"value": None, "score": None, "status": "missing", "age_minutes": None, "measured_at": None}
            if name in p.missing
            else {
                "value": value,
                "score": scores.get(name, 0),
                "status": "ok",
                "age_minutes": 12.0,
                "measured_at": measured_at.isoformat(),
            }
        )
        for name, value in values.items()
    }


async def _seed_spot_checks(conn: asyncpg.Connection, pid: int, device: str, now: datetime) -> None:
    """Oxygen and ACVPU as the field stores them: a boolean as 0.0/1.0 in `value`, a letter in `value_text`
    (a record that could not show a boolean was blank for every demo patient)."""
    rows = [
        (device, f"m-oxygen-{i}", "on_oxygen", float(i % 2), None, now - timedelta(hours=6 * i), pid) for i in range(4)
    ] + [(device, f"m-acvpu-{i}", "consciousness", None, "A", now - timedelta(hours=6 * i), pid) for i in range(4)]
    await conn.executemany(
        "INSERT INTO readings (device_id, msg_id, metric, value, value_text, measured_at, received_at, patient_id)"
        " VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
        rows,
    )
    await conn.executemany(
        "INSERT INTO latest_observations (patient_id, metric, value, value_text, measured_at, device_id)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        [(pid, "on_oxygen", 0.0, None, now, device), (pid, "consciousness", None, "A", now, device)],
    )


# One statement per table, set-based, so 1,000 patients take well under a second to seed.
SEED_SQL = [
    """INSERT INTO patients (mrn, display_name, ward, pathway, admitted_at)
       SELECT $2 || '-' || g, 'Patient ' || g, $2, (ARRAY['general','copd','heart_failure','post_op'])[1 + g % 4],
              now() - interval '3 days'
       FROM generate_series(1, $1) g""",
    """INSERT INTO patient_scores (patient_id, score, band, complete, missing, parameters, computed_at)
       SELECT id, s, CASE WHEN s >= 7 THEN 'high' WHEN s >= 5 THEN 'medium' ELSE 'low' END, true, '{}',
              '{"respiratory_rate": {"value": 18, "score": 0, "status": "ok", "age_minutes": 1.0,
                                     "measured_at": null}}'::jsonb, now() - interval '1 minute'
       FROM (SELECT id, (id * 7919) % 10 AS s FROM patients WHERE ward = $1) p""",
    """INSERT INTO latest_observations (patient_id, metric, value, measured_at, device_id)
       SELECT p.id, m, 80, now() - ((p.id % 30) || ' minutes')::interval, 'bulk-' || p.id
       FROM patients p, unnest(ARRAY['heart_rate','respiratory_rate','spo2','temperature','systolic_bp']) m
       WHERE p.ward = $1""",
    """INSERT INTO devices (id, kind, online, battery, last_seen_at)
       SELECT 'bulk-' || id, 'patch', id % 50 <> 0, 5 + id % 95, now() FROM patients WHERE ward = $1""",
    """INSERT INTO device_bindings (device_id, patient_id, valid)
       SELECT 'bulk-' || id, id, tstzrange(now() - interval '3 days', NULL) FROM patients WHERE ward = $1""",
    """INSERT INTO alerts (patient_id, rule_id, rule_set_name, rule_set_version, severity, state, title, opened_at,
                           updated_at, next_escalation_at)
       SELECT id, 'news2', 'default', 1, 1 + id % 3, 'open', 'NEWS2', now() - ((id % 90) || ' minutes')::interval,
              now(), now() + interval '20 minutes'
       FROM patients WHERE ward = $1 AND id % 5 = 0""",
]


async def seed_ward(pool: asyncpg.Pool, ward: str, patients: int) -> None:
    """`patients` admitted patients with scores, observations, devices and an alert on every fifth, in one go."""
    async with pool.acquire() as conn, conn.transaction():
        for sql in SEED_SQL:
            await conn.execute(sql, *([patients, ward] if "$2" in sql else [ward]))
