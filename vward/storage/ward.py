"""Read models for the triage list and the patient view: scores, alerts and data freshness."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import asyncpg

from vward.storage.pool import Conn

# One row per admitted patient with everything the worklist shows; ordering is the caller's. One patient
# asked for by id is found discharged too: their record (history, stays, alerts) stays readable.
_WORKLIST_SQL = """
SELECT p.id, p.mrn, p.display_name, p.date_of_birth, p.ward, p.pathway, p.spo2_scale, p.admitted_at,
       p.discharged_at, p.monitoring_plan,
       s.score, s.band, s.complete, s.missing, s.parameters, s.computed_at,
       s.red_score, s.applicable, s.reason, s.lower_bound,
       a.open_alerts, a.top_severity, a.oldest_alert_at, a.max_tier, a.next_escalation_at,
       o.last_reading_at, o.measured,
       d.devices_offline, d.min_battery,
       t.score AS score_then, t.parameters AS parameters_then
FROM patients p
LEFT JOIN patient_scores s ON s.patient_id = p.id
LEFT JOIN LATERAL (
    SELECT count(*) AS open_alerts, max(severity) AS top_severity, min(opened_at) AS oldest_alert_at,
           max(escalation_tier) AS max_tier, min(next_escalation_at) AS next_escalation_at
    FROM alerts WHERE patient_id = p.id AND state <> 'resolved'
) a ON true
LEFT JOIN LATERAL (
    SELECT max(measured_at) AS last_reading_at, jsonb_object_agg(metric, measured_at) AS measured
    FROM latest_observations WHERE patient_id = p.id
) o ON true
LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE dv.online IS FALSE) AS devices_offline, min(dv.battery) AS min_battery
    FROM device_bindings b JOIN devices dv ON dv.id = b.device_id
    WHERE b.patient_id = p.id AND upper_inf(b.valid)
) d ON true
LEFT JOIN LATERAL (  -- the score as it stood $2 ago: history has a row per change, so the last one before
    SELECT h.score, h.parameters FROM score_history h
    WHERE h.patient_id = p.id AND h.computed_at <= now() - $2::interval
    ORDER BY h.computed_at DESC LIMIT 1
) t ON true
WHERE ($3::bigint IS NULL AND p.discharged_at IS NULL OR p.id = $3)
  AND ($1::text[] IS NULL OR p.ward = ANY($1::text[]))
"""


async def worklist(
    conn: Conn, wards: list[str] | None, trend_window: timedelta, patient_id: int | None = None
) -> list[asyncpg.Record]:
    """Every admitted patient of `wards` (None: all), or just `patient_id`, admitted or discharged, with their
    score as it stood `trend_window` ago."""
    rows: list[asyncpg.Record] = await conn.fetch(_WORKLIST_SQL, wards, trend_window, patient_id)
    return rows


async def patient_ward(conn: Conn, patient_id: int) -> str | None:
    ward: str | None = await conn.fetchval("SELECT ward FROM patients WHERE id = $1", patient_id)
    return ward


async def patient_devices(conn: Conn, patient_id: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT dv.id, dv.kind, dv.online, dv.battery, dv.last_seen_at, lower(b.valid) AS bound_from"
        " FROM device_bindings b JOIN devices dv ON dv.id = b.device_id"
        " WHERE b.patient_id = $1 AND upper_inf(b.valid) ORDER BY dv.id",
        patient_id,
    )
    return rows


async def latest_observations(conn: Conn, patient_id: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT metric, value, value_text, measured_at, device_id FROM latest_observations"
        " WHERE patient_id = $1 ORDER BY metric",
        patient_id,
    )
    return rows


async def readings_between(
    conn: Conn, patient_id: int, start: datetime, end: datetime, metrics: list[str] | None, limit: int
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT metric, value, value_text, measured_at, received_at, device_id, flags FROM readings"
        " WHERE patient_id = $1 AND measured_at >= $2 AND measured_at < $3"
        " AND ($4::text[] IS NULL OR metric = ANY($4::text[]))"
        " ORDER BY measured_at LIMIT $5",
        patient_id,
        start,
        end,
        metrics,
        limit,
    )
    return rows


# Per metric, the last reading of each chart column, and the last one before the window (its carried
# values). Readings from a device clock in the future are stored but, as for the live score, not used.
_CHART_SQL = """
SELECT metric, value, value_text, measured_at FROM (
    SELECT DISTINCT ON (metric, date_bin($4, measured_at, $2)) metric, value, value_text, measured_at
    FROM readings
    WHERE patient_id = $1 AND measured_at >= $2 AND measured_at < $3 AND metric = ANY($5::text[])
      AND NOT ($6::text = ANY(flags))
    ORDER BY metric, date_bin($4, measured_at, $2), measured_at DESC
) columns
UNION ALL
SELECT m.metric, r.value, r.value_text, r.measured_at
FROM unnest($5::text[]) AS m(metric)
CROSS JOIN LATERAL (
    SELECT value, value_text, measured_at FROM readings
    WHERE patient_id = $1 AND metric = m.metric AND measured_at < $2 AND NOT ($6::text = ANY(flags))
    ORDER BY measured_at DESC LIMIT 1
) r
ORDER BY measured_at
"""


async def chart_readings(
    conn: Conn,
    patient_id: int,
    start: datetime,
    end: datetime,
    step: timedelta,
    metrics: list[str],
    unused_flag: str,
) -> list[asyncpg.Record]:
    """What an observation chart of columns of `step` needs, in time order, however dense the stream."""
    rows: list[asyncpg.Record] = await conn.fetch(_CHART_SQL, patient_id, start, end, step, metrics, unused_flag)
    return rows


# Per stream metric, the samples of its window back from each chart column's last reading (that one included):
# what the worker's stream summary of that moment rests on. A few per column, however dense the stream.
_STREAM_WINDOWS_SQL = """
SELECT l.metric, r.value, r.measured_at
FROM (
    SELECT DISTINCT ON (metric, date_bin($4, measured_at, $2)) metric, measured_at
    FROM readings
    WHERE patient_id = $1 AND measured_at >= $2 AND measured_at < $3 AND metric = ANY($5::text[])
      AND value IS NOT NULL AND NOT ($7::text = ANY(flags))
    ORDER BY metric, date_bin($4, measured_at, $2), measured_at DESC
) l
JOIN unnest($5::text[], $6::interval[]) AS w(metric, span) ON w.metric = l.metric
CROSS JOIN LATERAL (
    SELECT value, measured_at FROM readings
    WHERE patient_id = $1 AND metric = l.metric AND measured_at >= l.measured_at - w.span
      AND measured_at <= l.measured_at AND value IS NOT NULL AND NOT ($7::text = ANY(flags))
) r
ORDER BY l.metric, r.measured_at
"""


async def stream_windows(
    conn: Conn,
    patient_id: int,
    start: datetime,
    end: datetime,
    step: timedelta,
    windows: Mapping[str, timedelta],
    unused_flag: str,
) -> list[asyncpg.Record]:
    """Per stream metric, the samples each chart column's stream summary is made of, in time order."""
    metrics = sorted(windows)
    rows: list[asyncpg.Record] = await conn.fetch(
        _STREAM_WINDOWS_SQL, patient_id, start, end, step, metrics, [windows[m] for m in metrics], unused_flag
    )
    return rows


# Per metric and bucket: the lowest, highest and median value and how many there were. The envelope keeps
# every extreme on the chart (a spike is never smoothed away); the median draws the line.
_SERIES_SQL = """
SELECT metric, date_bin($4::interval, measured_at, $2) AS bucket,
       min(value) AS minimum, max(value) AS maximum,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY value) AS median, count(*) AS readings
FROM readings
WHERE patient_id = $1 AND measured_at >= $2 AND measured_at < $3 AND metric = ANY($5::text[])
  AND value IS NOT NULL AND NOT ($6 = ANY(flags))
GROUP BY metric, bucket
ORDER BY metric, bucket
"""


async def vital_buckets(
    conn: Conn,
    patient_id: int,
    start: datetime,
    end: datetime,
    step: timedelta,
    metrics: list[str],
    unused_flag: str,
) -> list[asyncpg.Record]:
    """A trend chart's numbers: a day of 5-second readings comes back as a few hundred rows per metric."""
    rows: list[asyncpg.Record] = await conn.fetch(_SERIES_SQL, patient_id, start, end, step, metrics, unused_flag)
    return rows


async def patient_refs(conn: Conn, patient_ids: list[int]) -> list[asyncpg.Record]:
    """Name, MRN and date of birth of each patient: what a dialog about one of their alerts must say."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT id, display_name, mrn, date_of_birth FROM patients WHERE id = ANY($1::bigint[])", patient_ids
    )
    return rows
