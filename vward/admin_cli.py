"""`vward user ...`, `vward audit verify` and `vward device credentials ...`: operator commands.

Each change is audited as `cli:<os user>`, so the trail names the person at the console. Storage, asyncpg
and the password hasher are imported when a command runs, so building `vward`'s parser does not load them.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from vward.domain.alerts import Role
from vward.domain.users import Principal

if TYPE_CHECKING:
    import asyncpg

T = TypeVar("T")
_MIN_PASSWORD = 12
# vward.storage.device_credentials.CredentialKind's values, spelt out so the parser does not load storage
# (tests/unit/kernel/test_cli_startup.py keeps them equal).
CREDENTIAL_KINDS = ("device", "service")


def _actor() -> Principal:
    return Principal(username=f"cli:{getpass.getuser()}", role=Role.ADMIN)


def _with_connection(work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Run `work` on one connection to VWARD_DATABASE_URL."""
    import asyncio

    from vward.settings import Settings
    from vward.storage.pool import create_pool

    dsn = Settings().database_url
    if not dsn:
        raise SystemExit("vward: set VWARD_DATABASE_URL")

    async def run() -> T:
        pool = await create_pool(dsn, min_size=1, max_size=1)
        try:
            async with pool.acquire() as conn:
                return await work(conn)
        finally:
            await pool.close()

    return asyncio.run(run())


def _read_password(args: argparse.Namespace) -> str:
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
    if len(password) < _MIN_PASSWORD:
        raise SystemExit(f"vward: a password needs at least {_MIN_PASSWORD} characters")
    return password


def _user_add(args: argparse.Namespace) -> int:
    from vward.api.passwords import hash_password
    from vward.storage.users import upsert_user

    password_hash = hash_password(_read_password(args))

    async def work(conn: asyncpg.Connection) -> None:
        await upsert_user(
            conn,
            username=args.username,
            password_hash=password_hash,
            role=Role(args.role),
            wards=tuple(args.ward or ()),
            actor=_actor(),
        )

    _with_connection(work)
    print(f"user {args.username} ({args.role}) saved")
    return 0


def _user_disable(args: argparse.Namespace) -> int:
    from vward.storage.users import set_disabled

    async def work(conn: asyncpg.Connection) -> bool:
        return await set_disabled(conn, args.username, True, actor=_actor())

    if not _with_connection(work):
        print(f"vward: no user {args.username}", file=sys.stderr)
        return 1
    print(f"user {args.username} disabled")
    return 0


def _audit_verify(_: argparse.Namespace) -> int:
    from vward.storage.audit import verify_chain

    report = _with_connection(verify_chain)
    if report.first_broken_id is not None:
        print(f"audit chain BROKEN at row {report.first_broken_id}: {report.problem} ({report.rows} rows intact)")
        return 1
    last = report.last_hash.hex() if report.last_hash else "none"
    print(f"audit chain intact: {report.rows} rows, last hash {last}")
    return 0


def _credentials_issue(args: argparse.Namespace) -> int:
    from vward.storage.device_credentials import CredentialKind, issue_credentials

    async def work(conn: asyncpg.Connection) -> str:
        async with conn.transaction():
            return await issue_credentials(conn, args.username, kind=CredentialKind(args.kind), actor=_actor())

    print(_with_connection(work))
    return 0


def _credentials_revoke(args: argparse.Namespace) -> int:
    from vward.storage.device_credentials import revoke_credentials

    async def work(conn: asyncpg.Connection) -> bool:
        async with conn.transaction():
            return await revoke_credentials(conn, args.username, actor=_actor())

    if not _with_connection(work):
        print(f"vward: no credentials in force for {args.username}", file=sys.stderr)
        return 1
    return 0


def _credentials_export(args: argparse.Namespace) -> int:
    from vward.storage.device_credentials import password_file_lines, write_password_file

    lines = _with_connection(password_file_lines)
    write_password_file(args.password_file, lines)
    print(f"{len(lines)} credentials written to {args.password_file}; send SIGHUP to mosquitto to reload")
    return 0


def _leaf(sub: Any, name: str, func: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text)
    parser.set_defaults(func=func)
    return parser


def register(subparsers: Any) -> None:
    """Add `user`, `audit` and `device` to the `vward` command line."""
    user = subparsers.add_parser("user", help="platform users").add_subparsers(dest="user_command", required=True)
    add = _leaf(user, "add", _user_add, "create or replace a user (asks for the password)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--ward", action="append", help="a ward the user may see (repeat; none: every ward)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    _leaf(user, "disable", _user_disable, "disable a user at once").add_argument("username")

    audit = subparsers.add_parser("audit", help="the audit log").add_subparsers(dest="audit_command", required=True)
    _leaf(audit, "verify", _audit_verify, "recompute the hash chain; exit 1 at the first tampered row")

    device = subparsers.add_parser("device", help="devices").add_subparsers(dest="device_command", required=True)
    creds = device.add_parser("credentials", help="MQTT credentials").add_subparsers(dest="cred_command", required=True)
    issue = _leaf(creds, "issue", _credentials_issue, "issue a new password (printed once) for a device or service")
    issue.add_argument("username", help="the device id, or a service name such as vward-ingest")
    issue.add_argument("--kind", choices=CREDENTIAL_KINDS, default="device")
    _leaf(creds, "revoke", _credentials_revoke, "revoke a device's or service's credentials").add_argument("username")
    export = _leaf(creds, "export", _credentials_export, "write the Mosquitto password file")
    export.add_argument("--password-file", type=Path, required=True)
