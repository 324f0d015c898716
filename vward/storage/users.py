"""Platform users: the clinicians, ops staff and admins who sign in. Every change is audited with it."""

from __future__ import annotations

from dataclasses import dataclass

from vward.domain.alerts import Role
from vward.domain.users import SYSTEM, Principal
from vward.storage.audit import record_audit
from vward.storage.pool import Conn, transaction


@dataclass(frozen=True, slots=True)
class UserRecord:
    username: str
    password_hash: str
    role: Role
    wards: tuple[str, ...]
    disabled: bool


async def get_user(conn: Conn, username: str) -> UserRecord | None:
    row = await conn.fetchrow(
        "SELECT username, password_hash, role, wards, disabled FROM users WHERE username = $1", username
    )
    if row is None:
        return None
    return UserRecord(row["username"], row["password_hash"], Role(row["role"]), tuple(row["wards"]), row["disabled"])


async def upsert_user(
    conn: Conn,
    *,
    username: str,
    password_hash: str,
    role: Role,
    wards: tuple[str, ...] = (),
    actor: Principal = SYSTEM,
    request_id: str | None = None,
) -> None:
    """Create or replace a user (re-enabling it), with its audit row in the same transaction."""
    async with transaction(conn) as tx:
        await tx.execute(
            "INSERT INTO users (username, password_hash, role, wards) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash,"
            " role = EXCLUDED.role, wards = EXCLUDED.wards, disabled = false",
            username,
            password_hash,
            role.value,
            list(wards),
        )
        await record_audit(
            tx,
            principal=actor,
            action="user.upsert",
            request_id=request_id,
            object_type="user",
            object_id=username,
            detail={"role": role.value, "wards": list(wards)},
        )


async def set_disabled(
    conn: Conn, username: str, disabled: bool, *, actor: Principal = SYSTEM, request_id: str | None = None
) -> bool:
    """Disable (or re-enable) a user; False when there is no such user, and then nothing is audited."""
    async with transaction(conn) as tx:
        status = await tx.execute("UPDATE users SET disabled = $2 WHERE username = $1", username, disabled)
        if not status.endswith(" 1"):
            return False
        await record_audit(
            tx,
            principal=actor,
            action="user.disable" if disabled else "user.enable",
            request_id=request_id,
            object_type="user",
            object_id=username,
        )
        return True
