"""`vward demo`: the whole platform and a simulated ward in one process, on embedded servers if need be."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from device_sims.core.census import PastStay, past_stays
from device_sims.publisher import SimulatedWard
from device_sims.ward import WardPlan, plan_ward
from vward.api.passwords import hash_password
from vward.bootstrap import ROLES, open_database, role_runners, run_until_stopped
from vward.domain.alerts import Role
from vward.embedded import BrokerChoice, EmbeddedServers
from vward.settings import Settings
from vward.storage.episodes import AlreadyAdmitted, Identity, Stay, admit, discharge, transfer
from vward.storage.patients import bind_device, register_device
from vward.storage.users import upsert_user

log = logging.getLogger(__name__)

DEMO_ACTOR = "demo"  # who admits the simulated ward, in its episode events
DEMO_USERS = (("clinician", Role.CLINICIAN), ("ops", Role.OPS), ("admin", Role.ADMIN))


@dataclass(frozen=True, slots=True)
class DemoOptions:
    port: int
    patients: int
    data_dir: Path
    seed: int
    broker: BrokerChoice = "auto"


async def seed_users(pool: asyncpg.Pool, password: str) -> None:
    hashed = hash_password(password)
    for username, role in DEMO_USERS:
        await upsert_user(pool, username=username, password_hash=hashed, role=role)


async def provision_history(pool: asyncpg.Pool, stays: list[PastStay]) -> int:
    """The ward's past month (device_sims.core.census), once per data directory: admitted, transferred and
    discharged through the storage calls the API uses, so the population view has real figures."""
    if await pool.fetchval("SELECT EXISTS (SELECT 1 FROM episode_events WHERE actor = $1)", DEMO_ACTOR):
        return 0
    known = {r["mrn"] for r in await pool.fetch("SELECT mrn FROM patients")}  # a data directory from before
    fresh = [s for s in stays if s.mrn not in known]
    async with pool.acquire() as conn, conn.transaction():
        for s in fresh:
            identity, stay = Identity(s.mrn, s.display_name, s.date_of_birth), Stay(s.ward, source=s.source)
            patient_id = (await admit(conn, identity, stay, s.admitted_at, DEMO_ACTOR)).patient_id
            if s.transfer is not None:
                await transfer(conn, patient_id, s.transfer[0], s.transfer[1], None, "bed capacity", DEMO_ACTOR)
            await discharge(conn, patient_id, s.discharged_at, s.outcome, None, DEMO_ACTOR)
    return len(fresh)


async def provision_ward(pool: asyncpg.Pool, plan: WardPlan, now: datetime) -> None:
    """Admit every simulated patient and bind their devices, idempotently (re-runs keep the same ids)."""
    async with pool.acquire() as conn, conn.transaction():
        for p in plan.patients:
            identity = Identity(p.mrn, p.display_name, p.date_of_birth)
            stay = Stay(p.ward, p.pathway, p.spo2_scale)
            try:
                patient_id = (await admit(conn, identity, stay, now, DEMO_ACTOR)).patient_id
            except AlreadyAdmitted as still:  # a re-run on the same data directory: the stay goes on
                patient_id = still.patient_id
            for d in p.devices:
                await register_device(conn, d.device_id, d.kind)
                await bind_device(conn, d.device_id, patient_id, now)


def _banner(settings: Settings, servers: EmbeddedServers, password: str, generated: bool, n: int) -> str:
    source = "random, for this run" if generated else "from VWARD_DEMO_PASSWORD"
    broker = f"{settings.mqtt_url} ({servers.broker_kind or 'configured'})"
    return "\n".join(
        [
            "",
            "virtual ward demo is running",
            f"  dashboard:  http://{settings.http_host}:{settings.http_port}/dash/",
            f"  API docs:   http://{settings.http_host}:{settings.http_port}/docs",
            f"  patients:   {n} simulated",
            f"  broker:     {broker}",
            f"  users:      clinician, ops, admin   password: {password}   ({source})",
            "  stop with Ctrl-C",
            "",
        ]
    )


async def run_demo(settings: Settings, options: DemoOptions) -> None:
    servers = EmbeddedServers(options.data_dir)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    pool: asyncpg.Pool | None = None
    try:
        updates: dict[str, Any] = {"http_port": options.port, "data_dir": options.data_dir}
        if not settings.database_url:
            updates["database_url"] = servers.start_postgres()
        if not settings.mqtt_url:
            updates["mqtt_url"] = await servers.start_broker(options.broker)
            updates.update(servers.client_settings())
        settings = settings.model_copy(update=updates)
        generated = not settings.demo_password
        password = settings.demo_password.get_secret_value() if settings.demo_password else secrets.token_urlsafe(9)
        secret = settings.secret_key.get_secret_value() if settings.secret_key else secrets.token_urlsafe(32)

        pool = await open_database(settings)
        await seed_users(pool, password)
        now = datetime.now(UTC)
        plan = plan_ward(options.patients, options.seed, start=now)
        history = await provision_history(pool, past_stays(plan, now, options.seed))
        log.info("demo ward history: %d past stays", history)
        await provision_ward(pool, plan, now)
        assert settings.mqtt_url is not None
        ward = SimulatedWard(plan, settings.mqtt_url, topic_prefix=settings.mqtt_topic_prefix, seed=options.seed)
        runners = [*role_runners(ROLES, settings, pool, secret), ward.run]
        print(_banner(settings, servers, password, generated, len(plan.patients)), flush=True)
        await run_until_stopped(runners, stop)
    finally:
        if pool is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pool.close(), 10)
        await servers.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
