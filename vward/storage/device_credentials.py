"""Per-device (and per-service) MQTT credentials, and the Mosquitto password file made from them.

The broker's ACL pattern grants a client write access only under `.../devices/%u/...`, so a device
whose username is its id can speak for itself and nobody else. Passwords are random 192-bit tokens
shown once; only a hash in Mosquitto's PBKDF2-SHA512 format (`$7$`) is stored.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import os
import secrets
from pathlib import Path

from vward.domain.users import Principal
from vward.storage.audit import record_audit
from vward.storage.pool import Conn

# Mosquitto's own default; the passwords are random tokens, so stretching adds nothing against guessing.
_ITERATIONS = 101
_SALT_BYTES = 12


class CredentialKind(enum.StrEnum):
    DEVICE = "device"
    SERVICE = "service"


def mosquitto_hash(password: str, salt: bytes) -> str:
    """The `$7$` (PBKDF2-SHA512) hash Mosquitto 2 reads from its password file."""
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, _ITERATIONS)
    return f"$7${_ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


async def issue_credentials(
    conn: Conn, username: str, *, kind: CredentialKind, actor: Principal, request_id: str | None = None
) -> str:
    """A new password for `username` (replacing and un-revoking any earlier one); returned once, never stored."""
    password = secrets.token_urlsafe(24)
    await conn.execute(
        "INSERT INTO mqtt_credentials (username, kind, password_hash) VALUES ($1, $2, $3)"
        " ON CONFLICT (username) DO UPDATE SET kind = EXCLUDED.kind, password_hash = EXCLUDED.password_hash,"
        " issued_at = now(), revoked_at = NULL",
        username,
        kind.value,
        mosquitto_hash(password, os.urandom(_SALT_BYTES)),
    )
    await record_audit(
        conn,
        principal=actor,
        action="mqtt_credentials.issue",
        request_id=request_id,
        object_type=f"mqtt_{kind}",
        object_id=username,
    )
    return password


async def revoke_credentials(conn: Conn, username: str, *, actor: Principal, request_id: str | None = None) -> bool:
    status = await conn.execute(
        "UPDATE mqtt_credentials SET revoked_at = now() WHERE username = $1 AND revoked_at IS NULL", username
    )
    if not status.endswith(" 1"):
        return False
    await record_audit(
        conn,
        principal=actor,
        action="mqtt_credentials.revoke",
        request_id=request_id,
        object_type="mqtt_credentials",
        object_id=username,
    )
    return True


async def password_file_lines(conn: Conn) -> list[str]:
    """`username:hash` for every credential in force, in a stable order."""
    rows = await conn.fetch(
        "SELECT username, password_hash FROM mqtt_credentials WHERE revoked_at IS NULL ORDER BY username"
    )
    return [f"{r['username']}:{r['password_hash']}" for r in rows]


def write_password_file(path: Path, lines: list[str]) -> None:
    """Replace the file atomically, readable by its owner only; the broker re-reads it on SIGHUP."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(f"{line}\n" for line in lines))
    tmp.chmod(0o600)
    tmp.replace(path)
