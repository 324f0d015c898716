"""Alerts and their event trail. The partial unique index `alerts_one_open` makes one open alert per
(patient, rule) a database fact; an insert that meets it returns None and the caller worsens or keeps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from vward.domain.alerts import AlertState, Severity
from vward.storage.pool import Conn

_COLUMNS = (
    "id, patient_id, rule_id, rule_set_name, rule_set_version, severity, state, title, reason, opened_at,"
    " updated_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by, outcome, outcome_code, snoozed_until,"
    " snooze_reason, escalation_policy, escalation_tier, next_escalation_at, muted_by, auto_resolve, cleared_at,"
    " absent_since, wavers"
)
# The columns a lifecycle change may set; everything else is fixed when the alert opens.
_MUTABLE = frozenset(
    {
        "severity",
        "state",
        "title",
        "reason",
        "acknowledged_at",
        "acknowledged_by",
        "resolved_at",
        "resolved_by",
        "outcome",
        "outcome_code",
        "snoozed_until",
        "snooze_reason",
        "escalation_tier",
        "next_escalation_at",
        "muted_by",
        "cleared_at",
        "escalation_policy",
        "absent_since",
        "wavers",
    }
)


@dataclass(frozen=True, slots=True)
class StoredAlert:
    id: int
    patient_id: int | None  # None: a system alert about the platform itself
    rule_id: str
    rule_set_name: str
    rule_set_version: int
    severity: Severity
    state: AlertState
    title: str
    reason: dict[str, Any]
    opened_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    outcome: str | None
    outcome_code: str | None
    snoozed_until: datetime | None
    snooze_reason: str | None
    escalation_policy: dict[str, Any]
    escalation_tier: int
    next_escalation_at: datetime | None
    muted_by: int | None
    auto_resolve: bool
    cleared_at: datetime | None
    absent_since: datetime | None  # the condition has been gone since then, not yet long enough to clear
    wavers: int  # times the condition came back before the alert cleared (one episode)


@dataclass(frozen=True, slots=True)
class NewAlert:
    patient_id: int | None
    rule_id: str
    rule_set_name: str
    rule_set_version: int
    severity: Severity
    title: str
    reason: dict[str, Any]
    escalation_policy: dict[str, Any]
    escalation_tier: int
    next_escalation_at: datetime | None
    auto_resolve: bool


def _alert(row: asyncpg.Record) -> StoredAlert:
    values = dict(row)
    values["severity"] = Severity(values["severity"])
    values["state"] = AlertState(values["state"])
    return StoredAlert(**values)


async def insert_alert(conn: Conn, alert: NewAlert, at: datetime) -> StoredAlert | None:
    """Open an alert; None when one is already open for (patient, rule): the caller keeps or worsens it."""
    row = await conn.fetchrow(
        "INSERT INTO alerts (patient_id, rule_id, rule_set_name, rule_set_version, severity, state, title, reason,"
        " opened_at, updated_at, escalation_policy, escalation_tier, next_escalation_at, auto_resolve)"
        " VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING"
        f" RETURNING {_COLUMNS}",
        alert.patient_id,
        alert.rule_id,
        alert.rule_set_name,
        alert.rule_set_version,
        int(alert.severity),
        alert.title,
        alert.reason,
        at,
        alert.escalation_policy,
        alert.escalation_tier,
        alert.next_escalation_at,
        alert.auto_resolve,
    )
    return None if row is None else _alert(row)


async def update_alert(conn: Conn, alert_id: int, at: datetime, changes: dict[str, Any]) -> StoredAlert:
    """Set lifecycle columns (and updated_at) on one alert."""
    unknown = set(changes) - _MUTABLE
    if unknown:
        raise ValueError(f"alert columns not changeable: {sorted(unknown)}")
    names = list(changes)
    assignments = ", ".join(f"{n} = ${i + 3}" for i, n in enumerate(names))
    values = [int(v) if isinstance(v, Severity) else v for v in changes.values()]
    row = await conn.fetchrow(
        f"UPDATE alerts SET updated_at = $2{', ' if names else ''}{assignments} WHERE id = $1 RETURNING {_COLUMNS}",
        alert_id,
        at,
        *values,
    )
    return _alert(row)


async def add_event(
    conn: Conn,
    *,
    alert_id: int,
    at: datetime,
    kind: str,
    actor: str,
    from_state: AlertState | None,
    to_state: AlertState | None,
    severity: Severity | None,
    detail: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO alert_events (alert_id, at, kind, actor, from_state, to_state, severity, detail)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        alert_id,
        at,
        kind,
        actor,
        from_state,
        to_state,
        None if severity is None else int(severity),
        detail or {},
    )


async def open_alerts_for_update(conn: Conn, patient_id: int | None) -> list[StoredAlert]:
    """The patient's unresolved alerts (or the platform's, for None), locked against concurrent actions."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM alerts WHERE patient_id IS NOT DISTINCT FROM $1 AND state <> 'resolved'"
        " ORDER BY id FOR UPDATE",
        patient_id,
    )
    return [_alert(r) for r in rows]


async def open_alerts_by_patient(conn: Conn, patient_ids: Sequence[int]) -> dict[int, list[StoredAlert]]:
    """`open_alerts_for_update` for a batch of patients in one query (patients without any are left out)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM alerts WHERE patient_id = ANY($1::bigint[]) AND state <> 'resolved'"
        " ORDER BY patient_id, id FOR UPDATE",
        list(patient_ids),
    )
    found: dict[int, list[StoredAlert]] = {}
    for row in rows:
        found.setdefault(row["patient_id"], []).append(_alert(row))
    return found


async def open_alert_for_rule(conn: Conn, patient_id: int | None, rule_id: str) -> StoredAlert | None:
    """The alert that won an insert conflict, locked, so the loser can worsen or keep it."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM alerts WHERE patient_id IS NOT DISTINCT FROM $1 AND rule_id = $2"
        " AND state <> 'resolved' FOR UPDATE",
        patient_id,
        rule_id,
    )
    return None if row is None else _alert(row)


async def has_open_alert(conn: Conn, patient_id: int | None, rule_id: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM alerts WHERE patient_id IS NOT DISTINCT FROM $1 AND rule_id = $2"
            " AND state <> 'resolved')",
            patient_id,
            rule_id,
        )
    )


async def get_alert(conn: Conn, alert_id: int, *, for_update: bool = False) -> StoredAlert | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM alerts WHERE id = $1{lock}", alert_id)
    return None if row is None else _alert(row)


async def claim_due(conn: Conn, now: datetime, limit: int) -> list[StoredAlert]:
    """Alerts whose escalation or snooze timer is due (a snooze holds escalation back); SKIP LOCKED so timer
    loops share the work."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM alerts WHERE state <> 'resolved'"
        " AND ((state <> 'snoozed' AND next_escalation_at <= $1) OR (state = 'snoozed' AND snoozed_until <= $1))"
        " ORDER BY least(next_escalation_at, snoozed_until) LIMIT $2 FOR UPDATE SKIP LOCKED",
        now,
        limit,
    )
    return [_alert(r) for r in rows]


async def events_of(conn: Conn, alert_id: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT id, at, kind, actor, from_state, to_state, severity, detail FROM alert_events"
        " WHERE alert_id = $1 ORDER BY at, id",
        alert_id,
    )
    return rows


@dataclass(frozen=True, slots=True)
class AlertFilter:
    states: tuple[AlertState, ...] = ()
    min_severity: Severity | None = None
    patient_id: int | None = None
    wards: tuple[str, ...] = ()  # empty: every ward


async def list_alerts(conn: Conn, where: AlertFilter, *, limit: int, offset: int) -> tuple[list[StoredAlert], int]:
    """One page of alerts in the inbox's order (worst first, then whoever has waited longest, then id: stable
    across pages) and the total that match; system alerts have no ward."""
    condition = (
        " FROM alerts a LEFT JOIN patients p ON p.id = a.patient_id"
        " WHERE (cardinality($1::text[]) = 0 OR a.state = ANY($1::text[]))"
        " AND ($2::smallint IS NULL OR a.severity >= $2) AND ($3::bigint IS NULL OR a.patient_id = $3)"
        " AND (cardinality($4::text[]) = 0 OR a.patient_id IS NULL OR p.ward = ANY($4::text[]))"
    )
    args = (
        [s.value for s in where.states],
        None if where.min_severity is None else int(where.min_severity),
        where.patient_id,
        list(where.wards),
    )
    total: int = await conn.fetchval(f"SELECT count(*){condition}", *args)
    columns = ", ".join(f"a.{c.strip()}" for c in _COLUMNS.split(","))
    rows = await conn.fetch(
        f"SELECT {columns}{condition} ORDER BY a.severity DESC, a.opened_at, a.id LIMIT $5 OFFSET $6",
        *args,
        limit,
        offset,
    )
    return [_alert(r) for r in rows], total


_IN_WARDS = "($2::text[] IS NULL OR a.patient_id IS NULL OR p.ward = ANY($2::text[]))"


async def changes_by_hour(conn: Conn, since: datetime, wards: list[str] | None, tz: str) -> list[asyncpg.Record]:
    """State changes (every alert event but its opening and notes) and notifications queued since `since`,
    counted per ward and ward-time hour (shifts start on the hour, so the meter sorts hours into shifts)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT p.ward, date_trunc('hour', e.at AT TIME ZONE $3) AS hour, count(*) AS n, 'change' AS what"
        " FROM alert_events e JOIN alerts a ON a.id = e.alert_id LEFT JOIN patients p ON p.id = a.patient_id"
        f" WHERE e.at >= $1 AND e.kind NOT IN ('opened', 'note') AND {_IN_WARDS} GROUP BY 1, 2"
        " UNION ALL"
        " SELECT p.ward, date_trunc('hour', o.created_at AT TIME ZONE $3), count(*), 'notification'"
        " FROM notification_outbox o JOIN alerts a ON a.id = o.alert_id LEFT JOIN patients p ON p.id = a.patient_id"
        f" WHERE o.created_at >= $1 AND {_IN_WARDS} GROUP BY 1, 2",
        since,
        wards,
        tz,
    )
    return rows


async def open_spans(conn: Conn, since: datetime, until: datetime, wards: list[str] | None) -> list[asyncpg.Record]:
    """Every alert open at some time in [since, until): its ward, the part of the span it was open, wavers."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT p.ward, greatest(a.opened_at, $1) AS start, least(coalesce(a.resolved_at, $3), $3) AS until,"
        " a.wavers FROM alerts a LEFT JOIN patients p ON p.id = a.patient_id"
        f" WHERE a.opened_at < $3 AND (a.resolved_at IS NULL OR a.resolved_at > $1) AND {_IN_WARDS}",
        since,
        wards,
        until,
    )
    return rows


async def response_times(
    conn: Conn, since: datetime, machine: str
) -> dict[Severity, tuple[int, timedelta | None, timedelta | None]]:
    """Per opening severity, of the alerts a person (not `machine`) closed since `since`: how many, and the
    median times from opening to acknowledgement and to closing (rules.core.alertbook.observed_response)."""
    rows = await conn.fetch(
        "SELECT severity, count(*) AS n,"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY acknowledged_at - opened_at)"
        "   FILTER (WHERE acknowledged_at IS NOT NULL) AS acknowledge,"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY resolved_at - opened_at) AS resolve"
        " FROM alerts WHERE state = 'resolved' AND resolved_at >= $1 AND resolved_by <> $2 AND NOT auto_resolve"
        " GROUP BY severity",
        since,
        machine,
    )
    return {Severity(r["severity"]): (r["n"], r["acknowledge"], r["resolve"]) for r in rows}


async def openings_since(conn: Conn, since: datetime, wards: list[str] | None, limit: int) -> list[asyncpg.Record]:
    """Alerts opened since `since` with the ward of their patient (NULL: a platform alert), oldest first;
    `wards` limits them to those wards (platform alerts always count)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT a.opened_at, a.rule_id, a.patient_id, p.ward FROM alerts a LEFT JOIN patients p ON p.id = a.patient_id"
        " WHERE a.opened_at >= $1 AND ($2::text[] IS NULL OR a.patient_id IS NULL OR p.ward = ANY($2::text[]))"
        " ORDER BY a.opened_at LIMIT $3",
        since,
        wards,
        limit,
    )
    return rows
