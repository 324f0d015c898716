"""`vward demo`: the whole platform and a simulated ward in one process, on embedded servers if need be."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from device_sims.core.census import PastStay, Turn, live_turns, past_stays
from device_sims.publisher import SimulatedWard
from device_sims.ward import WardPlan, plan_ward
from vward.api.passwords import hash_password
from vward.bootstrap import ROLES, Runner, open_database, role_runners, run_until_stopped
from vward.domain.alerts import Role
from vward.domain.episodes import Outcome
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


async def _open_stay_without_alerts(conn: asyncpg.Connection, mrn: str) -> int | None:
    """The patient's id if they are admitted with no alert still to deal with: a team would not discharge
    a patient with an open alert, and the demo does not either."""
    patient_id: int | None = await conn.fetchval(
        "SELECT p.id FROM patients p WHERE p.mrn = $1 AND p.discharged_at IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.patient_id = p.id AND a.state <> 'resolved')",
        mrn,
    )
    return patient_id


async def discharge_turn(pool: asyncpg.Pool, ward: SimulatedWard, turn: Turn, at: datetime) -> bool:
    """End the stay (completed) and collect the kit; False, and nothing done, if the patient has an alert
    to deal with or is not on the ward."""
    async with pool.acquire() as conn, conn.transaction():
        patient_id = await _open_stay_without_alerts(conn, turn.patient.mrn)
        if patient_id is None:
            return False
        await discharge(conn, patient_id, at, Outcome.COMPLETED, "monitoring complete", DEMO_ACTOR)
    ward.collect(turn.device_ids)
    return True


async def readmit_turn(pool: asyncpg.Pool, ward: SimulatedWard, turn: Turn, at: datetime) -> None:
    """A new stay of the same patient (a readmission), the same kit bound and reissued."""
    p = turn.patient
    async with pool.acquire() as conn, conn.transaction():
        try:
            patient_id = (await admit(conn, Identity(p.mrn, p.display_name, p.date_of_birth),
                                      Stay(p.ward, p.pathway, p.spo2_scale), at, DEMO_ACTOR)).patient_id  # fmt: skip
        except AlreadyAdmitted as back:  # readmitted by hand meanwhile: their kit goes back to them all the same
            patient_id = back.patient_id
        for device_id in turn.device_ids:
            await bind_device(conn, device_id, patient_id, at)
    ward.reissue(turn.device_ids)


async def run_census(pool: asyncpg.Pool, ward: SimulatedWard, turns: Iterator[Turn], stop: asyncio.Event) -> None:
    """The live ward's turnover (device_sims.core.census.live_turns) on the simulation's clock. A turn that
    fails is logged by its kind of error only (no patient data) and the next one goes on: the census is
    scenery, and must not stop the ward."""

    async def until(at: datetime) -> bool:
        wait = (at - ward.sim_time()).total_seconds() / ward.speed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(wait, 0.0))
        return not stop.is_set()

    for turn in turns:
        if not await until(turn.discharge_at):
            return
        try:
            if not await discharge_turn(pool, ward, turn, ward.sim_time()):
                continue
            if not await until(turn.readmit_at):
                return
            await readmit_turn(pool, ward, turn, ward.sim_time())
        except (asyncpg.PostgresError, OSError) as exc:
            log.warning("demo census: a turn was skipped (%s)", type(exc).__name__)


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
        census: Runner = functools.partial(run_census, pool, ward, live_turns(plan, options.seed))
        runners: list[Runner] = [*role_runners(ROLES, settings, pool, secret), ward.run, census]
        print(_banner(settings, servers, password, generated, len(plan.patients)), flush=True)
        await run_until_stopped(runners, stop)
    finally:
        if pool is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pool.close(), 10)
        await servers.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
