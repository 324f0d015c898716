"""The ward's outcomes over a period, computed in SQL from the episode and alert tables (docs/episodes.md
defines each figure). A stay of care that moves between wards is one stay: its length runs from the episode
that began it (source not `transfer`), transfers are neither admissions nor readmissions, and a figure
belongs to the ward where its event happened (admitted, ended, alerted)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from vward.storage.pool import Conn

# Episodes in scope, with the moment their stay of care began (through any transfers) and an end for the
# open ones (now, or the period's end if sooner).
_EPISODES = """
    ep AS (
        SELECT e.*, least(coalesce(e.discharged_at, now()), $2) AS counted_until,
               (SELECT max(b.admitted_at) FROM episodes b WHERE b.patient_id = e.patient_id
                 AND b.source <> 'transfer' AND b.admitted_at <= e.admitted_at) AS care_began
          FROM episodes e WHERE $3::text[] IS NULL OR e.ward = ANY($3)
    )"""

_WARD_FIGURES = f"""
WITH {_EPISODES},
ended AS (
    SELECT * FROM ep WHERE discharged_at >= $1 AND discharged_at < $2 AND outcome IS DISTINCT FROM 'transferred'
),
admitted AS (SELECT * FROM ep WHERE source <> 'transfer' AND admitted_at >= $1 AND admitted_at < $2),
wards AS (SELECT DISTINCT ward FROM ep WHERE admitted_at < $2 AND coalesce(discharged_at, 'infinity') > $1)
SELECT w.ward,
       (SELECT count(*) FROM admitted a WHERE a.ward = w.ward) AS admissions,
       (SELECT count(*) FROM admitted a WHERE a.ward = w.ward AND a.source = 'step_down') AS step_downs,
       (SELECT count(*) FROM admitted a WHERE a.ward = w.ward AND EXISTS (
            SELECT 1 FROM episodes p WHERE p.patient_id = a.patient_id AND p.id <> a.id
               AND p.outcome IS DISTINCT FROM 'transferred'
               AND p.discharged_at <= a.admitted_at AND p.discharged_at > a.admitted_at - interval '30 days'
       )) AS readmissions_30d,
       (SELECT coalesce(sum(extract(epoch FROM least(e.counted_until, $2) - greatest(e.admitted_at, $1))), 0)
                 / 86400.0
          FROM ep e WHERE e.ward = w.ward AND e.admitted_at < $2 AND e.counted_until > $1) AS bed_days,
       (SELECT count(*) FROM ended d WHERE d.ward = w.ward) AS discharges,
       (SELECT count(*) FROM ended d WHERE d.ward = w.ward AND d.outcome = 'escalated_to_hospital') AS escalations,
       (SELECT count(*) FROM ended d WHERE d.ward = w.ward AND d.outcome = 'died') AS deaths,
       (SELECT count(*) FROM ended d WHERE d.ward = w.ward AND d.outcome = 'self_discharged') AS self_discharges,
       (SELECT percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (
                 ORDER BY extract(epoch FROM d.discharged_at - d.care_began) / 86400.0)
          FROM ended d WHERE d.ward = w.ward) AS los_days,
       (SELECT count(*) FROM alerts a JOIN ep e ON e.patient_id = a.patient_id
           AND a.opened_at >= e.admitted_at AND a.opened_at < coalesce(e.discharged_at, 'infinity')
         WHERE e.ward = w.ward AND a.opened_at >= $1 AND a.opened_at < $2) AS alerts
  FROM wards w ORDER BY w.ward
"""

_ACKNOWLEDGEMENT = f"""
WITH {_EPISODES}
SELECT e.ward, a.severity, count(*) AS alerts, count(a.acknowledged_at) AS acknowledged,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.acknowledged_at - a.opened_at) / 60.0)
           FILTER (WHERE a.acknowledged_at IS NOT NULL) AS median_minutes,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM a.acknowledged_at - a.opened_at) / 60.0)
           FILTER (WHERE a.acknowledged_at IS NOT NULL) AS p90_minutes
  FROM alerts a JOIN ep e ON e.patient_id = a.patient_id
   AND a.opened_at >= e.admitted_at AND a.opened_at < coalesce(e.discharged_at, 'infinity')
 WHERE a.opened_at >= $1 AND a.opened_at < $2
 GROUP BY e.ward, a.severity ORDER BY e.ward, a.severity DESC
"""

# Each ward-time day of the period: patients on the ward on average (bed-days that day), admissions, ends.
_DAILY = f"""
WITH {_EPISODES},
days AS (
    SELECT d AS day, (d::timestamp AT TIME ZONE $4) AS starts, ((d + 1)::timestamp AT TIME ZONE $4) AS ends
      FROM generate_series(($1 AT TIME ZONE $4)::date, (($2 - interval '1 microsecond') AT TIME ZONE $4)::date,
                           interval '1 day') g, LATERAL (SELECT g::date AS d) x
)
SELECT e.ward, days.day,
       sum(extract(epoch FROM least(e.counted_until, days.ends, $2) - greatest(e.admitted_at, days.starts, $1)))
           FILTER (WHERE e.admitted_at < least(days.ends, $2) AND e.counted_until > greatest(days.starts, $1))
           / 86400.0 AS census,
       count(*) FILTER (WHERE e.source <> 'transfer' AND e.admitted_at >= greatest(days.starts, $1)
                          AND e.admitted_at < least(days.ends, $2)) AS admissions,
       count(*) FILTER (WHERE e.outcome IS DISTINCT FROM 'transferred' AND e.discharged_at >= greatest(days.starts, $1)
                          AND e.discharged_at < least(days.ends, $2)) AS discharges
  FROM ep e CROSS JOIN days
 GROUP BY e.ward, days.day
HAVING sum(extract(epoch FROM least(e.counted_until, days.ends, $2) - greatest(e.admitted_at, days.starts, $1)))
           FILTER (WHERE e.admitted_at < least(days.ends, $2) AND e.counted_until > greatest(days.starts, $1)) > 0
 ORDER BY e.ward, days.day
"""


async def ward_figures(conn: Conn, since: datetime, until: datetime, wards: list[str] | None) -> list[asyncpg.Record]:
    """One row per ward with a stay in the period: admissions, readmissions, bed-days, ends by outcome,
    length of stay quartiles (days) and alerts."""
    rows: list[asyncpg.Record] = await conn.fetch(_WARD_FIGURES, since, until, wards)
    return rows


async def acknowledgement(
    conn: Conn, since: datetime, until: datetime, wards: list[str] | None
) -> list[asyncpg.Record]:
    """Per ward and severity: alerts opened in the period, how many were acknowledged and how fast."""
    rows: list[asyncpg.Record] = await conn.fetch(_ACKNOWLEDGEMENT, since, until, wards)
    return rows


async def daily(conn: Conn, since: datetime, until: datetime, wards: list[str] | None, tz: str) -> list[asyncpg.Record]:
    """Per ward and ward-time day: mean census, admissions and ends (not transfers)."""
    rows: list[asyncpg.Record] = await conn.fetch(_DAILY, since, until, wards, tz)
    return rows
