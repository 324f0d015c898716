"""Readings written in micro-batches, idempotently, with their side tables in the caller's transaction.

A batch is COPYed into a per-connection temporary staging table, messages with a reading no patient's
binding covers at `measured_at` are reported (to be dead-lettered), and the others go into `readings`,
each reading with the patient its device was bound to at `measured_at`, with ON CONFLICT DO NOTHING
on (device_id, msg_id, metric, measured_at), so a resent message is a duplicate, not new data. Inserted
readings update `latest_observations` (only when newer) and queue their patients for evaluation, as
'urgent' when a reading falls outside its metric's quiet range (see migration 0042).

Value columns: numbers in `value`; booleans in `value` as 1.0 / 0.0; ACVPU letters in `value_text`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Final

from vward.domain.readings import Reading, ReadingValue
from vward.storage.evaluation import EVAL_CHANNEL
from vward.storage.pool import Conn

STAGING: Final = "ingest_staging"
_MS: Final = timedelta(milliseconds=1)
RESOLVED: Final = "ingest_resolved"
_STAGED_COLUMNS = (
    "seq",
    "device_id",
    "msg_id",
    "metric",
    "value",
    "value_text",
    "measured_at",
    "received_at",
    "flags",
    "clock_correction_ms",
)

_CREATE_STAGING = f"""
CREATE TEMP TABLE IF NOT EXISTS {STAGING} (
    seq integer NOT NULL, device_id text NOT NULL, msg_id text NOT NULL, metric text NOT NULL,
    value double precision, value_text text, measured_at timestamptz NOT NULL, received_at timestamptz NOT NULL,
    flags text[] NOT NULL, clock_correction_ms bigint
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS {RESOLVED} (
    device_id text NOT NULL, measured_at timestamptz NOT NULL, patient_id bigint
) ON COMMIT DELETE ROWS
"""

# Each distinct (device, measured_at) once (a message's readings usually share it): the patient whose binding
# covers measured_at and who was admitted and not yet discharged then. Returns why the unresolved are not
# (the CASE only runs for those few), by message.
_RESOLVE = f"""
WITH pairs AS (
    INSERT INTO {RESOLVED} (device_id, measured_at, patient_id)
    SELECT d.device_id, d.measured_at, (
        SELECT b.patient_id FROM device_bindings b JOIN patients p ON p.id = b.patient_id
        WHERE b.device_id = d.device_id AND b.valid @> d.measured_at AND d.measured_at >= p.admitted_at
          AND (p.discharged_at IS NULL OR d.measured_at < p.discharged_at)
        LIMIT 1)
    FROM (SELECT DISTINCT device_id, measured_at FROM {STAGING}) d
    RETURNING device_id, measured_at, patient_id
)
SELECT DISTINCT ON (s.seq) s.seq, CASE
    WHEN NOT EXISTS (SELECT 1 FROM devices d WHERE d.id = s.device_id) THEN 'unknown_device'
    WHEN EXISTS (SELECT 1 FROM device_bindings b JOIN patients p ON p.id = b.patient_id
                 WHERE b.device_id = s.device_id AND lower(b.valid) <= s.measured_at
                   AND p.discharged_at <= s.measured_at) THEN 'after_discharge'
    WHEN EXISTS (SELECT 1 FROM device_bindings b JOIN patients p ON p.id = b.patient_id
                 WHERE b.device_id = s.device_id AND p.admitted_at > s.measured_at
                   AND (upper_inf(b.valid) OR upper(b.valid) > s.measured_at)) THEN 'before_admission'
    ELSE 'not_bound' END AS reason
FROM {STAGING} s JOIN pairs r ON r.device_id = s.device_id AND r.measured_at = s.measured_at
WHERE r.patient_id IS NULL ORDER BY s.seq
"""

# Readings flagged `$2` (from the future) are stored but never become the latest observation.
_INSERT = f"""
WITH ins AS (
    INSERT INTO readings (device_id, msg_id, metric, value, value_text, measured_at, received_at, patient_id, flags,
                          clock_correction_ms)
    SELECT s.device_id, s.msg_id, s.metric, s.value, s.value_text, s.measured_at, s.received_at, r.patient_id,
           s.flags, s.clock_correction_ms
    FROM {STAGING} s JOIN {RESOLVED} r ON r.device_id = s.device_id AND r.measured_at = s.measured_at
    WHERE r.patient_id IS NOT NULL AND s.seq <> ALL($1::integer[])
    ON CONFLICT DO NOTHING
    RETURNING patient_id, metric, value, value_text, measured_at, device_id, flags
), latest AS (
    INSERT INTO latest_observations (patient_id, metric, value, value_text, measured_at, device_id)
    SELECT DISTINCT ON (patient_id, metric) patient_id, metric, value, value_text, measured_at, device_id
    FROM ins WHERE $2::text <> ALL(flags)
    ORDER BY patient_id, metric, measured_at DESC
    ON CONFLICT (patient_id, metric) DO UPDATE SET value = EXCLUDED.value, value_text = EXCLUDED.value_text,
        measured_at = EXCLUDED.measured_at, device_id = EXCLUDED.device_id
    WHERE latest_observations.measured_at < EXCLUDED.measured_at
), queued AS (
    INSERT INTO eval_queue (patient_id, reason)
    SELECT i.patient_id, CASE WHEN bool_or(i.value <= q.above OR i.value > q.up_to OR i.value_text <> ALL(q.usual_text))
                              THEN 'urgent' ELSE 'readings' END
    FROM ins i LEFT JOIN quiet_ranges q ON q.metric = i.metric
    GROUP BY i.patient_id ORDER BY i.patient_id
    ON CONFLICT DO NOTHING
)
SELECT count(*) FROM ins
"""


def value_columns(value: ReadingValue) -> tuple[float | None, str | None]:
    """(value, value_text) as stored."""
    if isinstance(value, str):
        return None, value
    return float(value), None


async def prepare_staging(conn: Conn) -> None:
    """Create this connection's staging tables (once per connection; emptied at every commit)."""
    await conn.execute(_CREATE_STAGING)


async def stage(conn: Conn, readings: Iterable[tuple[int, Reading]]) -> None:
    """COPY readings, each tagged with the sequence number of the message it came in."""
    records = [
        (
            seq,
            r.device_id,
            r.msg_id,
            r.metric,
            *value_columns(r.value),
            r.measured_at,
            r.received_at,
            [*r.flags],
            None if r.clock_correction is None else r.clock_correction // _MS,
        )
        for seq, r in readings
    ]
    await conn.copy_records_to_table(STAGING, records=records, columns=_STAGED_COLUMNS)


async def resolve_patients(conn: Conn) -> dict[int, str]:
    """Find each staged reading's patient; returns {message seq: reason} for messages with a reading that has none."""
    return {r["seq"]: r["reason"] for r in await conn.fetch(_RESOLVE)}


async def insert_staged(conn: Conn, rejected: Iterable[int], *, not_latest_flag: str) -> int:
    """Insert staged readings of the messages not rejected; returns how many were new (not duplicates)."""
    inserted: int = await conn.fetchval(_INSERT, sorted(rejected), not_latest_flag)
    if inserted:
        await conn.execute("SELECT pg_notify($1, '')", EVAL_CHANNEL)
    return inserted


async def insert_for_patient(conn: Conn, patient_id: int, readings: Iterable[Reading], *, not_latest_flag: str) -> int:
    """Readings whose patient is known (entered at the bedside, no binding to resolve), through the same
    insert, latest-observation and evaluation-queue path as ingest's; returns how many were new. Once per
    transaction: the staging tables empty only at commit."""
    await prepare_staging(conn)
    await stage(conn, enumerate(readings))
    await conn.execute(
        f"INSERT INTO {RESOLVED} (device_id, measured_at, patient_id)"
        f" SELECT DISTINCT device_id, measured_at, $1::bigint FROM {STAGING}",
        patient_id,
    )
    return await insert_staged(conn, (), not_latest_flag=not_latest_flag)
