"""Alert latency: from the commit of a reading set (as ingest commits it: readings, latest values, a queue row
and pg_notify in one transaction) to the committed alert row, with the rules worker as its own process
(`vward run rules`) and background load beside it.

    python -m bench.rules_latency [--trials 300] [--ward 200] [--rate 50]
    python -m bench.rules_latency --beside-ingest [--devices 2000] [--fleet-rate 0]

The default load is a ward committing normal reading sets straight into the database, `--rate` a second.
With `--beside-ingest` it is the real ingest path instead, at full speed or `--fleet-rate` messages/s: a
private Mosquitto, one `python -m ingest` process and two store-and-forward fleet processes (bench/_support),
so the rules worker also evaluates every fleet patient ingest queues (more than it can: normal readings
wait, urgent ones go first). Prints one JSON line with p50/p95/p99/max in milliseconds
and the background's committed rate during the trials. Uses a throwaway database (dropped at the end).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench._support.stack import IngestProcess, bind_fleet, start_fleet
from ingest.core.skew import FUTURE
from tests.support.servers import Mosquitto, create_migrated_database, drop_database
from vward.domain.metrics import Metric
from vward.domain.readings import Reading, ReadingValue
from vward.storage.partitions import ensure_partitions
from vward.storage.pool import create_pool
from vward.storage.readings import insert_for_patient

NORMAL: dict[Metric, ReadingValue] = {
    Metric.RESPIRATORY_RATE: 16,
    Metric.SPO2: 97,
    Metric.ON_OXYGEN: False,
    Metric.SYSTOLIC_BP: 120,
    Metric.HEART_RATE: 70,
    Metric.CONSCIOUSNESS: "A",
    Metric.TEMPERATURE: 37.0,
}
# NEWS2 12: the worker must open a high news2 alert.
HIGH = NORMAL | {
    Metric.RESPIRATORY_RATE: 26,
    Metric.SPO2: 90,
    Metric.SYSTOLIC_BP: 95,
    Metric.HEART_RATE: 115,
    Metric.TEMPERATURE: 39.5,
}


async def admit(pool: asyncpg.Pool, count: int) -> list[int]:
    rows = await pool.fetch(
        "INSERT INTO patients (mrn, display_name, ward, admitted_at)"
        " SELECT 'LAT-' || gen_random_uuid(), 'Latency Patient', 'Bench', now() - interval '1 hour'"
        " FROM generate_series(1, $1) RETURNING id",
        count,
    )
    return [r["id"] for r in rows]


async def commit_readings(pool: asyncpg.Pool, patient_id: int, values: dict[Metric, ReadingValue]) -> None:
    """One reading set through ingest's insert path (readings, latest values, queue row, pg_notify)."""
    at = datetime.now(UTC)
    msg = uuid.uuid4().hex[:12]
    readings = [Reading(f"lat-{patient_id}", msg, m, v, at, at) for m, v in values.items()]
    async with pool.acquire() as conn, conn.transaction():
        await insert_for_patient(conn, patient_id, readings, not_latest_flag=FUTURE)


async def background_ward(pool: asyncpg.Pool, patients: list[int], rate: float, stop: asyncio.Event) -> int:
    """Normal readings from the rest of the ward, `rate` reading sets a second."""
    sent = 0
    while not stop.is_set():
        await commit_readings(pool, patients[sent % len(patients)], NORMAL)
        sent += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1 / rate)
    return sent


FLEET_PREFIXES = ("fleet-a-", "fleet-b-")
FLEET_START_S = 60.0  # ingest's first commit must come within this
FLEET_MESSAGES = 100_000  # per device: more than any trial window needs; the fleets are stopped afterwards
READINGS_PER_MESSAGE = 5


@contextlib.asynccontextmanager
async def ward_load(pool: asyncpg.Pool, patients: list[int], rate: float) -> AsyncIterator[None]:
    stop = asyncio.Event()
    load = asyncio.create_task(background_ward(pool, patients, rate, stop))
    try:
        yield
    finally:
        stop.set()
        await load


@contextlib.asynccontextmanager
async def ingest_load(
    pool: asyncpg.Pool, dsn: str, devices: int, rate: float, workdir: Path, *, quiet: bool
) -> AsyncIterator[None]:
    """The real ingest path until the block ends, `rate` messages a second in all (0: as fast as it goes),
    vital signs that score 0 on NEWS2 when `quiet` (else most readings are urgent); waits until its first
    readings are committed."""
    broker = Mosquitto(workdir=workdir / "mosquitto")
    broker.start()
    ingest: IngestProcess | None = None
    fleets: list[subprocess.Popen[bytes]] = []
    try:
        async with pool.acquire() as conn:
            for prefix in FLEET_PREFIXES:
                await bind_fleet(conn, prefix, devices // len(FLEET_PREFIXES))
        ingest = IngestProcess(
            {"VWARD_DATABASE_URL": dsn, "VWARD_MQTT_URL": broker.url, "VWARD_MQTT_TOPIC_PREFIX": ""},
            workdir / "ingest.log",
        )
        ingest.start()
        per_fleet, fleet_rate = devices // len(FLEET_PREFIXES), rate / len(FLEET_PREFIXES)
        fleets = [
            start_fleet(broker.port, "", prefix, per_fleet, FLEET_MESSAGES, window=1000, rate=fleet_rate, quiet=quiet)
            for prefix in FLEET_PREFIXES
        ]
        for _ in range(int(FLEET_START_S * 10)):
            if await fleet_readings(pool):
                break
            await asyncio.sleep(0.1)
        else:
            raise TimeoutError(f"ingest committed nothing within {FLEET_START_S:g} s: {ingest.output()[-2000:]}")
        yield
    finally:
        for fleet in fleets:
            fleet.terminate()
            fleet.wait(30)
        if ingest is not None:
            ingest.stop()
        broker.stop()


async def fleet_readings(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM readings WHERE device_id LIKE 'fleet-%'"))


async def one_trial(pool: asyncpg.Pool, patient_id: int) -> float:
    await commit_readings(pool, patient_id, HIGH)
    committed = time.perf_counter()
    while not await pool.fetchval(
        "SELECT EXISTS (SELECT 1 FROM alerts WHERE patient_id = $1 AND rule_id = 'news2')", patient_id
    ):
        if time.perf_counter() - committed > 30:
            raise TimeoutError(f"no alert for patient {patient_id} within 30 s")
        await asyncio.sleep(0.002)
    return (time.perf_counter() - committed) * 1000


def start_worker(dsn: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VWARD_")} | {"VWARD_DATABASE_URL": dsn}
    return subprocess.Popen(
        [sys.executable, "-m", "vward.cli", "run", "rules"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


async def main(args: argparse.Namespace) -> dict[str, Any]:
    trials, ward, rate, beside_ingest, devices = args.trials, args.ward, args.rate, args.beside_ingest, args.devices
    name, dsn = await create_migrated_database()
    worker: subprocess.Popen[bytes] | None = None
    try:
        pool = await create_pool(dsn, min_size=2, max_size=6)
        try:
            async with pool.acquire() as conn:
                await ensure_partitions(conn, datetime.now(UTC))
            background, probes = await admit(pool, ward), await admit(pool, trials)
            worker = start_worker(dsn)
            await one_trial(pool, probes.pop())  # warm-up: the worker's first alert (imports, seeding)
            with tempfile.TemporaryDirectory(prefix="vward-latency-") as tmp:
                load = (
                    ingest_load(pool, dsn, devices, args.fleet_rate, Path(tmp), quiet=not args.urgent_fleet)
                    if beside_ingest
                    else ward_load(pool, background, rate)
                )
                async with load:
                    before = await fleet_readings(pool)
                    started = time.perf_counter()
                    latencies = []
                    for patient_id in probes:
                        latencies.append(await one_trial(pool, patient_id))
                        await asyncio.sleep(0.01)
                    elapsed = time.perf_counter() - started
                    committed = await fleet_readings(pool) - before
            background_sets = await pool.fetchval(
                "SELECT count(DISTINCT msg_id) FROM readings WHERE patient_id = ANY($1::bigint[])", background
            )
        finally:
            await pool.close()
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        await drop_database(name)
    cuts = statistics.quantiles(latencies, n=100)
    background_rate = (
        {
            "ingest_messages_per_s": round(committed / READINGS_PER_MESSAGE / elapsed),
            "fleet_devices": devices,
            "fleet_rate": args.fleet_rate or "full speed",
            "fleet_readings": "mostly urgent" if args.urgent_fleet else "quiet",
        }
        if beside_ingest
        else {"background_patients": ward, "background_sets_per_s": round(background_sets / elapsed, 1)}
    )
    return {
        "trials": trials,
        **background_rate,
        "p50_ms": round(cuts[49], 1),
        "p95_ms": round(cuts[94], 1),
        "p99_ms": round(cuts[98], 1),
        "max_ms": round(max(latencies), 1),
        "window_s": round(elapsed, 1),
        "at": (datetime.now(UTC) - timedelta(seconds=elapsed)).isoformat(timespec="seconds"),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=300, help="alerts to time, one after another")
    parser.add_argument("--ward", type=int, default=200, help="patients sending normal readings meanwhile")
    parser.add_argument("--rate", type=float, default=50, help="background reading sets per second")
    parser.add_argument("--beside-ingest", action="store_true", help="real ingest at full speed as the background")
    parser.add_argument("--devices", type=int, default=2000, help="fleet devices publishing with --beside-ingest")
    parser.add_argument("--fleet-rate", type=float, default=0, help="fleet messages/s in all (0: full speed)")
    parser.add_argument("--urgent-fleet", action="store_true", help="fleet readings mostly outside quiet ranges")
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
