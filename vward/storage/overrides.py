"""Per-patient threshold overrides: set by a clinician with a reason and an expiry, read by the rules."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import asyncpg

from vward.storage.pool import Conn

_COLUMNS = "id, patient_id, metric, low, high, reason, expires_at, created_by, created_at"


async def set_override(
    conn: Conn,
    *,
    patient_id: int,
    metric: str,
    low: float | None,
    high: float | None,
    reason: str,
    expires_at: datetime,
    by: str,
) -> asyncpg.Record:
    """Replace the patient's live override of `metric` (the old one is kept as removed)."""
    await conn.execute(
        "UPDATE threshold_overrides SET removed_at = now(), removed_by = $3"
        " WHERE patient_id = $1 AND metric = $2 AND removed_at IS NULL",
        patient_id,
        metric,
        by,
    )
    row: asyncpg.Record = await conn.fetchrow(
        "INSERT INTO threshold_overrides (patient_id, metric, low, high, reason, expires_at, created_by)"
        f" VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_COLUMNS}",
        patient_id,
        metric,
        low,
        high,
        reason,
        expires_at,
        by,
    )
    return row


async def remove_override(conn: Conn, patient_id: int, override_id: int, by: str) -> bool:
    status = await conn.execute(
        "UPDATE threshold_overrides SET removed_at = now(), removed_by = $3"
        " WHERE id = $2 AND patient_id = $1 AND removed_at IS NULL",
        patient_id,
        override_id,
        by,
    )
    return bool(status.endswith(" 1"))


async def live_overrides(conn: Conn, patient_id: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        f"SELECT {_COLUMNS} FROM threshold_overrides WHERE patient_id = $1 AND removed_at IS NULL ORDER BY metric",
        patient_id,
    )
    return rows


async def overrides_by_patient(conn: Conn, patient_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Live (including expired) overrides as the rules read them: metric, low, high, reason, expires_at."""
    rows = await conn.fetch(
        "SELECT patient_id, metric, low, high, reason, expires_at FROM threshold_overrides"
        " WHERE patient_id = ANY($1::bigint[]) AND removed_at IS NULL",
        patient_ids,
    )
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        grouped[r["patient_id"]].append({k: r[k] for k in ("metric", "low", "high", "reason", "expires_at")})
    return grouped
