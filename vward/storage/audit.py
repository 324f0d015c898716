"""The audit log: one row per read of patient data and per action, in the caller's transaction.

Rows are hash-chained in commit order as their transaction commits (migrations 0030 and 0032);
`verify_chain` recomputes the chain with its own copy of the canonical row text, because a verifier must
not trust a function stored in the database it checks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import asyncpg

from vward.domain.users import Principal
from vward.storage.pool import Conn

# Must equal audit_log_canonical() in 0030_audit_chain.sql; the chain test proves they agree.
_CANONICAL = (
    "jsonb_build_array(id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), username, role,"
    " action, patient_id, object_type, object_id, request_id, detail, break_glass)::text"
)
_VERIFY_BATCH = 5000


async def record_audit(
    conn: Conn,
    *,
    principal: Principal,
    action: str,
    request_id: str | None,
    patient_id: int | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one row; a break-glass principal's reason is copied in so the access stands out."""
    await conn.execute(
        "INSERT INTO audit_log (username, role, action, patient_id, object_type, object_id, request_id, detail,"
        " break_glass) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        principal.username,
        principal.role.value,
        action,
        patient_id,
        object_type,
        object_id,
        request_id,
        detail or {},
        principal.break_glass,
    )


async def list_audit(conn: Conn, *, patient_id: int | None, limit: int) -> list[asyncpg.Record]:
    """Newest first, for one patient or for everything; `at` ties (one request) keep their insertion order."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT at, username, role, action, object_type, object_id FROM audit_log"
        " WHERE ($1::bigint IS NULL OR patient_id = $1) ORDER BY at DESC, id DESC LIMIT $2",
        patient_id,
        limit,
    )
    return rows


@dataclass(frozen=True, slots=True)
class ChainReport:
    """How many rows verified and the last good hash (an anchor to keep elsewhere), and the first row whose
    hash or link does not match (None: intact)."""

    rows: int
    first_broken_id: int | None
    problem: str | None
    last_hash: bytes | None = None


def _row_hash(prev: bytes | None, canonical: str) -> bytes:
    return hashlib.sha256((prev or b"") + canonical.encode()).digest()


async def verify_chain(conn: asyncpg.Connection) -> ChainReport:
    """Walk the log in chain (commit) order and recompute every link; stops at the first break."""
    unsealed = await conn.fetchval("SELECT min(id) FROM audit_log WHERE seq IS NULL")
    if unsealed is not None:
        return ChainReport(0, unsealed, "row is outside the chain (written with the sealing trigger off?)")
    prev: bytes | None = None
    checked = 0
    after = 0
    while True:
        rows = await conn.fetch(
            f"SELECT id, seq, prev_hash, hash, {_CANONICAL} AS canonical FROM audit_log WHERE seq > $1"
            " ORDER BY seq LIMIT $2",
            after,
            _VERIFY_BATCH,
        )
        if not rows:
            return ChainReport(checked, None, None, prev)
        for row in rows:
            if row["prev_hash"] != prev:
                return ChainReport(checked, row["id"], "prev_hash does not match the previous row (row removed?)", prev)
            if row["hash"] != _row_hash(prev, row["canonical"]):
                return ChainReport(checked, row["id"], "hash does not match the row's content (row changed?)", prev)
            prev = row["hash"]
            checked += 1
        after = rows[-1]["seq"]
