"""Would-be alerts of shadow rule sets: what a draft would have raised on live data, never notified."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vward.domain.alerts import Severity
from vward.storage.pool import Conn


@dataclass(frozen=True, slots=True)
class ShadowAlert:
    id: int
    rule_id: str
    severity: Severity
    opened_at: datetime


async def open_shadow_alerts(conn: Conn, rule_set_id: int, patient_id: int) -> list[ShadowAlert]:
    rows = await conn.fetch(
        "SELECT id, rule_id, severity, opened_at FROM shadow_alerts"
        " WHERE rule_set_id = $1 AND patient_id = $2 AND closed_at IS NULL ORDER BY id FOR UPDATE",
        rule_set_id,
        patient_id,
    )
    return [ShadowAlert(r["id"], r["rule_id"], Severity(r["severity"]), r["opened_at"]) for r in rows]


async def open_shadow_alert(
    conn: Conn,
    *,
    rule_set_id: int,
    patient_id: int,
    rule_id: str,
    severity: Severity,
    title: str,
    reason: dict[str, Any],
    at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO shadow_alerts (rule_set_id, patient_id, rule_id, severity, title, reason, opened_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT DO NOTHING",
        rule_set_id,
        patient_id,
        rule_id,
        int(severity),
        title,
        reason,
        at,
    )


async def worsen_shadow_alert(conn: Conn, shadow_id: int, severity: Severity, at: datetime) -> None:
    await conn.execute(
        "UPDATE shadow_alerts SET severity = greatest(severity, $2), updated_at = $3 WHERE id = $1",
        shadow_id,
        int(severity),
        at,
    )


async def close_shadow_alert(conn: Conn, shadow_id: int, at: datetime) -> None:
    await conn.execute("UPDATE shadow_alerts SET closed_at = $2, updated_at = $2 WHERE id = $1", shadow_id, at)


async def shadow_summary(conn: Conn, rule_set_id: int, since: datetime) -> list[dict[str, Any]]:
    """Would-be alerts opened since `since`, per rule and severity: the burden a draft would add."""
    rows = await conn.fetch(
        "SELECT rule_id, severity, count(*) AS opened, count(DISTINCT patient_id) AS patients FROM shadow_alerts"
        " WHERE rule_set_id = $1 AND opened_at >= $2 GROUP BY rule_id, severity ORDER BY rule_id, severity",
        rule_set_id,
        since,
    )
    return [dict(r) for r in rows]
