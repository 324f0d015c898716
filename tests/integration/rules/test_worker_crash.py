"""SIGKILL the rules worker at random points of a scenario and restart it: no alert lost, none duplicated,
every notification delivered at least once, and escalation timers still fire after the restart."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from tests.integration.rules.helpers import NEWS2_HIGH, NEWS2_SIX, NEWS2_ZERO, admitted_patient, record_readings
from tests.integration.rules.webhook import webhook_receiver
from tests.support.waiting import Deadline, budget, eventually
from vward.domain.metrics import Metric
from vward.domain.readings import ReadingValue

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KILLS = 6
PATIENTS = 12
SCENARIOS: list[dict[Metric, ReadingValue]] = [NEWS2_HIGH, NEWS2_SIX, NEWS2_ZERO]


def _spawn(database_url: str, webhook_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VWARD_")}
    env |= {
        "VWARD_DATABASE_URL": database_url,
        "VWARD_RULES_POLL_MS": "50",
        "VWARD_RULES_TICK_S": "0.2",
        "VWARD_NOTIFY_WEBHOOK_URL": webhook_url,
        "VWARD_NOTIFY_WEBHOOK_SECRET": "crash-test-secret-0123",
        "VWARD_NOTIFY_TIMEOUT_S": "1",
        "VWARD_DB_POOL_MIN": "1",
        "VWARD_DB_POOL_MAX": "3",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "vward.cli", "run", "rules"], env=env, stdout=out, stderr=subprocess.STDOUT
        )


async def _evaluated_since(pool: asyncpg.Pool, patient_id: int, since: datetime) -> None:
    await eventually(
        lambda: pool.fetchval("SELECT computed_at >= $2 FROM patient_scores WHERE patient_id = $1", patient_id, since),
        within=60,
        what=f"patient {patient_id} evaluated by the new worker",
    )


async def test_killed_worker_loses_and_duplicates_nothing(
    database_url: str, db_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    rng = random.Random(20261123)
    now = datetime.now(UTC)
    patients = [await admitted_patient(db_pool, now - timedelta(hours=2)) for _ in range(PATIENTS)]
    ever_alerting: set[int] = set()
    log = tmp_path / "worker.log"
    # Sets a little over a minute apart: each is a spot check scored as measured, not a stream's median
    # (rules.core.streams), so every alerting set must alert however the kills fall.
    clock = (now - timedelta(minutes=100) + timedelta(seconds=61) * i for i in itertools.count())
    with webhook_receiver() as receiver:
        for _ in range(KILLS):
            worker = _spawn(database_url, receiver.url, log)
            try:
                probe_id, probe_device = patients[0]
                started = datetime.now(UTC)
                await record_readings(db_pool, probe_id, probe_device, NEWS2_ZERO, next(clock))
                await _evaluated_since(db_pool, probe_id, started)
                for _burst in range(3):
                    for patient_id, device_id in rng.sample(patients, 5):
                        values = rng.choice(SCENARIOS)
                        if values is not NEWS2_ZERO:
                            ever_alerting.add(patient_id)
                        await record_readings(db_pool, patient_id, device_id, values, next(clock))
                    await asyncio.sleep(rng.uniform(0, 0.03))
                await asyncio.sleep(rng.uniform(0, 0.15))
            finally:
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=budget(30))

        # While nothing runs, one alert's escalation falls due: the timer lives in the database.
        ids = [p for p, _ in patients]
        due_alert = await db_pool.fetchval(
            "UPDATE alerts SET opened_at = opened_at - interval '11 minutes', next_escalation_at = now()"
            " WHERE id = (SELECT id FROM alerts WHERE patient_id = ANY($1::bigint[]) AND rule_id = 'news2'"
            " AND severity = 3 AND state = 'open' ORDER BY id LIMIT 1) RETURNING id",
            ids,
        )
        assert due_alert is not None, "the scenario raised no high alert"

        worker = _spawn(database_url, receiver.url, log)
        try:
            deadline = Deadline(60, "the queue drained, the due alert at tier 2 and every notification sent")
            while True:
                queued = await db_pool.fetchval("SELECT count(*) FROM eval_queue WHERE patient_id = ANY($1)", ids)
                escalated = await db_pool.fetchval("SELECT escalation_tier FROM alerts WHERE id = $1", due_alert)
                unsent = await db_pool.fetchval(
                    "SELECT count(*) FROM notification_outbox o JOIN alerts a ON a.id = o.alert_id"
                    " WHERE a.patient_id = ANY($1) AND o.sent_at IS NULL",
                    ids,
                )
                if queued == 0 and escalated == 2 and unsent == 0:
                    break
                row = dict(await db_pool.fetchrow("SELECT * FROM alerts WHERE id = $1", due_alert))
                if deadline.passed():
                    raise deadline.fail(f"queued={queued} tier={escalated} unsent={unsent} {row}")
                await asyncio.sleep(0.1)
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=budget(30)) == 0, log.read_text()[-3000:]

    alerts = await db_pool.fetch(
        "SELECT id, patient_id FROM alerts WHERE patient_id = ANY($1) AND rule_id = 'news2'", ids
    )
    assert sorted(a["patient_id"] for a in alerts) == sorted(ever_alerting)  # none lost, none duplicated
    alert_ids = [a["id"] for a in alerts]
    opened_events = await db_pool.fetch(
        "SELECT alert_id, count(*) AS n FROM alert_events WHERE kind = 'opened' AND alert_id = ANY($1) GROUP BY 1",
        alert_ids,
    )
    assert {e["alert_id"]: e["n"] for e in opened_events} == dict.fromkeys(alert_ids, 1)
    opened_rows = await db_pool.fetch(
        "SELECT idempotency_key FROM notification_outbox WHERE alert_id = ANY($1) AND payload->>'event' = 'opened'",
        alert_ids,
    )
    assert len(opened_rows) == len(alert_ids)
    assert all(receiver.by_key(r["idempotency_key"]) for r in opened_rows)  # delivered at least once
    escalation = await db_pool.fetch(
        "SELECT kind FROM alert_events WHERE alert_id = $1 AND kind = 'escalated'", due_alert
    )
    assert len(escalation) == 1
