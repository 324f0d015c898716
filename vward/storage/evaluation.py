"""What the rules worker reads: the evaluation queue and, for a batch of patients at once, everything
a rule set may look at (patient, latest observations, a window of readings, bound devices)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import asyncpg

from vward.domain.metrics import Metric
from vward.domain.patients import Patient
from vward.domain.readings import Observation, ReadingValue
from vward.storage.patients import PATIENT_COLUMNS, patient_from_row
from vward.storage.pool import Conn

# Ingest notifies this channel after committing readings; the rules workers LISTEN on it.
EVAL_CHANNEL = "vward_eval"


async def claim_queued(conn: Conn, limit: int) -> list[int]:
    """Take up to `limit` queued patients; rows other workers hold are skipped, so a patient is never
    evaluated twice at once. In the caller's transaction: a crash rolls the claim back. Urgent readings go
    first (in batches of their own, so they wait for nobody), then other fresh readings, then timer
    re-evaluations in small batches, so a tick backlog barely delays an alert."""
    return (
        await _claim(conn, "reason = 'urgent'", limit)
        or await _claim(conn, "reason NOT IN ('urgent', 'tick')", limit)
        or await _claim(conn, "reason = 'tick'", max(1, limit // 5))
    )


async def _claim(conn: Conn, condition: str, limit: int) -> list[int]:
    rows = await conn.fetch(
        "DELETE FROM eval_queue WHERE patient_id IN (SELECT patient_id FROM eval_queue"
        f" WHERE {condition} ORDER BY queued_at LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING patient_id",
        limit,
    )
    return [r["patient_id"] for r in rows]


async def requeue(conn: Conn, patient_ids: list[int], reason: str) -> None:
    """Evaluate these patients again soon (their rules changed), waking the workers."""
    await conn.execute(
        "INSERT INTO eval_queue (patient_id, reason) SELECT unnest($1::bigint[]), $2 ON CONFLICT DO NOTHING",
        patient_ids,
        reason,
    )
    await conn.execute("SELECT pg_notify($1, '')", EVAL_CHANNEL)


QuietRangeRow = tuple[str, float | None, float | None, list[str] | None]  # metric, above, up_to, usual_text


async def replace_quiet_ranges(conn: Conn, rows: list[QuietRangeRow], rule_set: str, version: int) -> None:
    """Make `quiet_ranges` those of this rule set version, unless they already are. Serialised by an
    advisory lock, so workers starting together do not interleave."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('vward.quiet_ranges'))")
    current = await conn.fetch("SELECT DISTINCT rule_set, version FROM quiet_ranges")
    if [tuple(r) for r in current] == [(rule_set, version)]:
        return
    await conn.execute("DELETE FROM quiet_ranges")
    await conn.executemany(
        "INSERT INTO quiet_ranges (metric, above, up_to, usual_text, rule_set, version)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        [(*row, rule_set, version) for row in rows],
    )


async def requeue_quiet(conn: Conn, now: datetime, evaluated_before: datetime) -> int:
    """Queue admitted patients not evaluated since `evaluated_before`, so time-based rules (stale data,
    overdue readings, expired snoozes) fire without new readings. Returns how many were queued."""
    status = await conn.execute(
        "INSERT INTO eval_queue (patient_id, queued_at, reason)"
        " SELECT p.id, $1, 'tick' FROM patients p LEFT JOIN patient_scores s ON s.patient_id = p.id"
        " WHERE p.discharged_at IS NULL AND (s.computed_at IS NULL OR s.computed_at < $2)"
        " ON CONFLICT DO NOTHING",
        now,
        evaluated_before,
    )
    return int(status.rsplit(" ", 1)[1])


async def last_reading_at(conn: Conn) -> datetime | None:
    """When the newest reading of any admitted patient was measured: the platform's pulse."""
    at: datetime | None = await conn.fetchval(
        "SELECT max(o.measured_at) FROM latest_observations o JOIN patients p ON p.id = o.patient_id"
        " WHERE p.discharged_at IS NULL"
    )
    return at


_BOOLEAN_METRICS = frozenset({Metric.ON_OXYGEN.value, Metric.PATIENT_CONCERN.value})
_KNOWN_METRICS = frozenset(m.value for m in Metric)


def observation_value(metric: str, value: float | None, value_text: str | None) -> ReadingValue | None:
    """Stored columns back to the wire value: booleans as bool, ACVPU as text, the rest as float."""
    if metric in _BOOLEAN_METRICS:
        if value_text is not None:
            return value_text.lower() in ("true", "1")
        return None if value is None else bool(value)
    if value_text is not None:
        return value_text
    return None if value is None else float(value)


def _observations(rows: list[asyncpg.Record]) -> dict[int, list[Observation]]:
    """Rows with patient_id, metric, value, value_text and measured_at, grouped by patient in row order."""
    grouped: dict[int, list[Observation]] = defaultdict(list)
    for r in rows:
        metric = r["metric"]
        value = observation_value(metric, r["value"], r["value_text"]) if metric in _KNOWN_METRICS else None
        if value is not None:
            grouped[r["patient_id"]].append(Observation(Metric(metric), value, r["measured_at"]))
    return grouped


async def patients_by_id(conn: Conn, patient_ids: list[int]) -> dict[int, Patient]:
    rows = await conn.fetch(f"SELECT {PATIENT_COLUMNS} FROM patients WHERE id = ANY($1::bigint[])", patient_ids)
    return {r["id"]: patient_from_row(r) for r in rows}


async def latest_by_patient(conn: Conn, patient_ids: list[int]) -> dict[int, dict[str, Observation]]:
    rows = await conn.fetch(
        "SELECT patient_id, metric, value, value_text, measured_at FROM latest_observations"
        " WHERE patient_id = ANY($1::bigint[])",
        patient_ids,
    )
    return {pid: {o.metric.value: o for o in obs} for pid, obs in _observations(rows).items()}


async def history_by_patient(conn: Conn, windows: list[tuple[int, str, datetime]]) -> dict[int, list[Observation]]:
    """Readings per (patient, metric, since) window plus the one value before it (so a hold that began
    before the window is seen to), oldest first per patient."""
    if not windows:
        return {}
    patient_ids, metrics, sinces = (list(column) for column in zip(*windows, strict=True))
    rows = await conn.fetch(
        "SELECT w.patient_id, w.metric, r.value, r.value_text, r.measured_at"
        " FROM unnest($1::bigint[], $2::text[], $3::timestamptz[]) AS w(patient_id, metric, since)"
        " CROSS JOIN LATERAL ("
        "  (SELECT value, value_text, measured_at FROM readings WHERE patient_id = w.patient_id"
        "   AND metric = w.metric AND measured_at < w.since ORDER BY measured_at DESC LIMIT 1)"
        "  UNION ALL (SELECT value, value_text, measured_at FROM readings WHERE patient_id = w.patient_id"
        "   AND metric = w.metric AND measured_at >= w.since)) r"
        " ORDER BY w.patient_id, r.measured_at",
        patient_ids,
        metrics,
        sinces,
    )
    return _observations(rows)


# One patient's readings as columns: measured_at (microseconds since the Unix epoch), metric, value (NaN
# where the value is text), value_text.
ReplayColumns = tuple[list[int], list[str], list[float], list[str | None]]


async def readings_for_replay(conn: Conn, patient_id: int, start: datetime, end: datetime) -> ReplayColumns:
    """One patient's readings in [start, end) in (measured_at, metric) order, as columns: the input of a
    backtest. One row of arrays with integer times decodes several times faster than a record and a
    datetime per reading (10 million readings: ~8 s of client CPU down to ~1.5 s). The aggregates take the
    rows in the order of the subquery, PostgreSQL's idiom for ordered input without sorting once per array
    (checked, see `in_time_order`).
    Rows with neither a value nor a text are skipped, as the live worker skips them."""
    row = await conn.fetchrow(
        "SELECT array_agg((extract(epoch FROM measured_at) * 1000000)::int8), array_agg(metric),"
        " array_agg(coalesce(value, 'NaN')), array_agg(value_text) FROM (SELECT measured_at, metric, value,"
        " value_text FROM readings WHERE patient_id = $1 AND measured_at >= $2 AND measured_at < $3"
        " AND (value IS NOT NULL OR value_text IS NOT NULL) ORDER BY measured_at, metric) r",
        patient_id,
        start,
        end,
    )
    if row is None or row[0] is None:
        return [], [], [], []
    return in_time_order((row[0], row[1], row[2], row[3]))


def in_time_order(columns: ReplayColumns) -> ReplayColumns:
    """The columns as they came when already in (time, metric) order, which PostgreSQL gives in practice but
    does not promise (a parallel or re-sorting plan could break it); sorted here otherwise. Checking costs
    one C-speed pass over the times."""
    times, metrics, values, texts = columns
    if times == sorted(times):
        return columns
    order = sorted(range(len(times)), key=lambda i: (times[i], metrics[i]))
    return [times[i] for i in order], [metrics[i] for i in order], [values[i] for i in order], [texts[i] for i in order]


async def patients_admitted_during(
    conn: Conn, start: datetime, end: datetime, patient_ids: list[int] | None, wards: list[str] | None = None
) -> list[Patient]:
    """Patients on the ward at any time in [start, end), optionally only some ids or wards."""
    rows = await conn.fetch(
        f"SELECT {PATIENT_COLUMNS} FROM patients WHERE admitted_at < $2"
        " AND (discharged_at IS NULL OR discharged_at > $1) AND ($3::bigint[] IS NULL OR id = ANY($3::bigint[]))"
        " AND ($4::text[] IS NULL OR ward = ANY($4::text[])) ORDER BY id",
        start,
        end,
        patient_ids,
        wards,
    )
    return [patient_from_row(r) for r in rows]


async def handled_concerns(conn: Conn, patient_ids: list[int], since: datetime) -> dict[int, frozenset[datetime]]:
    """The "I feel unwell" presses whose alert a person has already closed, per patient: a press raises
    one alert, never a second one after it was resolved."""
    rows = await conn.fetch(
        "SELECT patient_id, (reason->>'pressed_at')::timestamptz AS pressed_at FROM alerts"
        " WHERE patient_id = ANY($1::bigint[]) AND rule_id = 'patient_concern' AND state = 'resolved'"
        " AND opened_at >= $2 AND reason ? 'pressed_at'",
        patient_ids,
        since,
    )
    presses: dict[int, set[datetime]] = defaultdict(set)
    for r in rows:
        presses[r["patient_id"]].add(r["pressed_at"])
    return {pid: frozenset(at) for pid, at in presses.items()}


async def devices_by_patient(conn: Conn, patient_ids: list[int]) -> dict[int, list[asyncpg.Record]]:
    """Devices bound now, with status and last sight."""
    rows = await conn.fetch(
        "SELECT b.patient_id, dv.id, dv.kind, dv.online, dv.battery, dv.last_seen_at,"
        " dv.clock_estimate_ms, dv.clock_correction_ms"
        " FROM device_bindings b JOIN devices dv ON dv.id = b.device_id"
        " WHERE b.patient_id = ANY($1::bigint[]) AND upper_inf(b.valid) ORDER BY dv.id",
        patient_ids,
    )
    devices: dict[int, list[asyncpg.Record]] = defaultdict(list)
    for r in rows:
        devices[r["patient_id"]].append(r)
    return devices
