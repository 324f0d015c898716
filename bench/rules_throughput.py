"""One rules worker's throughput: patients evaluated per second when a whole ward is queued at once.

    python -m bench.rules_throughput [--patients 1000] [--rounds 3]

A throwaway database (on VWARD_TEST_ADMIN_DSN's server) with `--patients` admitted patients; each round
commits a complete normal NEWS2 reading set per patient through ingest's insert path, then times one
worker (in this process, default settings) draining the queue. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.rules_latency import NORMAL, admit
from ingest.core.skew import FUTURE
from rules.service import seed_default_ruleset
from rules.worker import RulesWorker
from tests.support.servers import create_migrated_database, drop_database
from vward.domain.readings import Reading
from vward.settings import Settings
from vward.storage.pool import create_pool
from vward.storage.readings import insert_for_patient


async def main(patients: int, rounds: int) -> dict[str, Any]:
    name, dsn = await create_migrated_database()
    try:
        pool = await create_pool(dsn, min_size=2, max_size=4)
        try:
            async with pool.acquire() as conn:
                await seed_default_ruleset(conn)
            worker = RulesWorker(Settings(database_url=dsn), pool)
            ids = await admit(pool, patients)
            rates = []
            for round_ in range(rounds):
                at = datetime.now(UTC) + timedelta(seconds=round_)
                async with pool.acquire() as conn:
                    for patient_id in ids:  # a transaction each, as ingest's staging tables expect
                        msg = uuid.uuid4().hex[:12]
                        readings = [Reading(f"thr-{patient_id}", msg, m, v, at, at) for m, v in NORMAL.items()]
                        async with conn.transaction():
                            await insert_for_patient(conn, patient_id, readings, not_latest_flag=FUTURE)
                started = time.perf_counter()
                evaluated = await worker.drain()
                rates.append(round(evaluated / (time.perf_counter() - started)))
        finally:
            await pool.close()
    finally:
        await drop_database(name)
    return {"patients": patients, "patients_per_s": rates, "load_average_1min": round(os.getloadavg()[0], 1)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.patients, args.rounds))))
