"""Rule set preview at scale: 1,000 patients x 7 days of one reading a minute (~10 million readings),
COPYed into a throwaway database, then the candidate and the published rule set replayed side by side.

    python -m bench.rules_preview [--patients 1000] [--days 7] [--processes 2] [--keep | --database NAME]

Prints one JSON line: rows generated, load time, fetch-only time, preview time, and the burden summary.
The database is created on VWARD_TEST_ADMIN_DSN's server and dropped at the end unless --keep.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import yaml

from rules.core.ruleset import DEFAULT_RULESET_PATH, RuleSet, default_ruleset
from rules.preview import preview, stream_readings
from tests.support.servers import ADMIN_DSN, create_database, drop_database
from vward.storage.evaluation import patients_admitted_during
from vward.storage.migrate import migrate
from vward.storage.partitions import ensure_partitions
from vward.storage.pool import create_pool

# Continuous wearable metrics take turns, one reading a minute; spot checks come a few times a day.
CONTINUOUS = ("heart_rate", "respiratory_rate", "spo2")
# Minute-to-minute noise of each walk; with the pull back to baseline below, values wander about 3x this
# (HR +-4 /min, RR +-1.3 /min, SpO2 +-1 %): a stable ward, where deterioration is the exception.
NOISE = {"heart_rate": 1.2, "respiratory_rate": 0.4, "spo2": 0.3}
COLUMNS = ["device_id", "msg_id", "metric", "value", "value_text", "measured_at", "received_at", "patient_id"]


def candidate_ruleset() -> RuleSet:
    """The default, but alerting on a NEWS2 of 3 and on SpO2 held at 92% or below for 5 minutes."""
    document = yaml.safe_load(DEFAULT_RULESET_PATH.read_text())
    document["news2"]["alerts"].append({"min_score": 3, "severity": "low"})
    spo2 = next(t for t in document["thresholds"] if t["metric"] == "spo2")
    spo2["low"][0]["at_or_below"] = 92
    spo2["hold_minutes"] = 5
    return RuleSet.model_validate(document)


def patient_rows(patient_id: int, start: datetime, days: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """A seeded random walk around a personal baseline; one patient in ten deteriorates for a few hours."""
    device = f"bench-{patient_id}"
    base = {"heart_rate": rng.uniform(65, 90), "respiratory_rate": rng.uniform(13, 18), "spo2": rng.uniform(94, 98)}
    level = dict(base)
    minutes = days * 1440
    episode = rng.randrange(minutes - 600) if rng.random() < 0.1 else -1
    for minute in range(minutes):
        at = start + timedelta(minutes=minute)
        metric = CONTINUOUS[minute % 3]
        sick = 0 <= minute - episode < 360
        target = base[metric] + ({"heart_rate": 45, "respiratory_rate": 10, "spo2": -7}[metric] if sick else 0)
        level[metric] += 0.05 * (target - level[metric]) + rng.gauss(0, NOISE[metric])
        value = round(min(level[metric], 100.0), 1) if metric == "spo2" else round(level[metric])
        yield device, f"m{minute}", metric, float(value), None, at, at, patient_id
        if minute % 720 == 0:
            yield device, f"s{minute}", "systolic_bp", float(round(rng.gauss(125, 12))), None, at, at, patient_id
            yield device, f"s{minute}", "temperature", round(rng.gauss(36.9, 0.3), 1), None, at, at, patient_id
        if minute % 1440 == 0:
            yield device, f"d{minute}", "consciousness", None, "A", at, at, patient_id
            yield device, f"d{minute}", "on_oxygen", 0.0, None, at, at, patient_id


async def load(dsn: str, patients: int, days: int, start: datetime) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        for day in range(0, days + 1, 7):
            await ensure_partitions(conn, start + timedelta(days=day + 2))
        ids = await conn.fetch(
            "INSERT INTO patients (mrn, display_name, ward, admitted_at)"
            " SELECT 'BENCH-' || i, 'Bench Patient', 'Bench', $1 FROM generate_series(1, $2) i RETURNING id",
            start,
            patients,
        )
        rng = random.Random(7)
        rows = 0
        for record in ids:
            batch = list(patient_rows(record["id"], start, days, rng))
            await conn.copy_records_to_table("readings", records=batch, columns=COLUMNS)
            rows += len(batch)
        await conn.execute("ANALYZE readings")
        return rows
    finally:
        await conn.close()


async def fetch_only(pool: asyncpg.Pool, start: datetime, end: datetime) -> float:
    """How long streaming the readings alone takes: the database's share of the preview."""
    began = time.perf_counter()
    async with pool.acquire() as conn:
        patients = await patients_admitted_during(conn, start, end, None)
    async for _ in stream_readings(pool, patients, start, end):
        pass
    return time.perf_counter() - began


async def main(patients: int, days: int, processes: int, keep: bool, database: str | None) -> dict[str, Any]:
    name, dsn = (database, f"{ADMIN_DSN.rsplit('/', 1)[0]}/{database}") if database else await create_database()
    try:
        began = time.perf_counter()
        if database:
            conn = await asyncpg.connect(dsn)
            first, last = await conn.fetchrow("SELECT min(measured_at), max(measured_at) FROM readings")
            await conn.close()
            start, end, rows = first, last + timedelta(minutes=1), None
        else:
            end = datetime.now(UTC).replace(second=0, microsecond=0)
            start = end - timedelta(days=days)
            rows = await load(dsn, patients, days, start)
        loaded_s = time.perf_counter() - began
        pool = await create_pool(dsn, min_size=2, max_size=3)
        try:
            fetch_s = await fetch_only(pool, start, end)
            report = await preview(
                pool,
                candidate=("candidate", candidate_ruleset()),
                published=("default@1", default_ruleset()),
                start=start,
                end=end,
                tz=UTC,
                fan_out=(dsn, processes),
            )
        finally:
            await pool.close()
        summary = report.to_json()
        for side in ("candidate", "published"):
            summary[side].pop("per_shift")
        return {
            "processes": processes,
            "rows": rows,
            "load_s": round(loaded_s, 1),
            "fetch_only_s": round(fetch_s, 1),
            "preview_s": round(report.elapsed_s, 1),
            "readings_per_s": round(report.readings / report.elapsed_s),
            "report": summary,
            "database": name if keep or database else None,
        }
    finally:
        if not (keep or database):
            await drop_database(name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--processes", type=int, default=1, help="replay processes (one per core to spare)")
    parser.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    parser.add_argument("--database", help="reuse a database kept by --keep instead of loading a new one")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.patients, args.days, args.processes, args.keep, args.database))))
