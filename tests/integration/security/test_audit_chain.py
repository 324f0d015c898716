"""The audit log is append-only for the application, hash-chained, and `vward audit verify` finds tampering."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Iterator

import asyncpg
import pytest

from tests.integration.security.cli import vward
from tests.support.servers import create_database, drop_database
from tests.support.waiting import finishes
from vward.domain.alerts import Role
from vward.domain.users import Principal
from vward.storage.audit import record_audit, verify_chain
from vward.storage.migrate import bundled_migrations, migrate
from vward.storage.pool import create_pool

pytestmark = pytest.mark.integration

ALICE = Principal(username="alice", role=Role.CLINICIAN)


async def test_concurrent_writers_chain_in_commit_order_and_verify(db_pool: asyncpg.Pool) -> None:
    marker = uuid.uuid4().hex

    async def write(i: int) -> None:
        async with db_pool.acquire() as conn, conn.transaction():
            await record_audit(conn, principal=ALICE, action="test.concurrent", request_id=f"{marker}-{i}")

    await asyncio.gather(*(write(i) for i in range(20)))
    rows = await db_pool.fetch("SELECT seq, prev_hash, hash FROM audit_log ORDER BY seq")
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    assert all(r["hash"] is not None and len(r["hash"]) == 32 for r in rows)
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(rows))
    async with db_pool.acquire() as conn:
        report = await verify_chain(conn)
    assert report.first_broken_id is None
    assert report.rows >= 20


async def test_an_open_transaction_does_not_hold_up_other_audit_writers(db_pool: asyncpg.Pool) -> None:
    """Rows join the chain at commit, so a long transaction (a rules batch) blocks nobody meanwhile."""
    async with db_pool.acquire() as slow, slow.transaction():
        await record_audit(slow, principal=ALICE, action="test.slow", request_id="slow")
        async with db_pool.acquire() as quick:
            await finishes(
                record_audit(quick, principal=ALICE, action="test.quick", request_id="quick"),
                within=30,
                what="an audit write beside an open transaction",
            )
        assert await slow.fetchval("SELECT seq FROM audit_log WHERE request_id = 'slow'") is None
    sealed = await db_pool.fetch("SELECT request_id FROM audit_log WHERE request_id IN ('slow', 'quick') ORDER BY seq")
    assert [r["request_id"] for r in sealed][-2:] == ["quick", "slow"]  # chain order is commit order


async def test_writers_cannot_forge_chain_columns(db_pool: asyncpg.Pool) -> None:
    await db_pool.execute(
        "INSERT INTO audit_log (username, role, action, request_id, seq, prev_hash, hash)"
        " VALUES ('mallory', 'admin', 'forged', 'forged-chain', 1, '\\x00', '\\x00')"
    )
    row = await db_pool.fetchrow("SELECT seq, hash FROM audit_log WHERE request_id = 'forged-chain'")
    assert row["seq"] > 1
    assert len(row["hash"]) == 32


async def _run(conn: asyncpg.Connection, statement: str, role: str | None) -> None:
    async with conn.transaction():
        if role is not None:
            await conn.execute(f"SET LOCAL ROLE {role}")
        await conn.execute(statement)


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"]
)
async def test_the_application_role_cannot_rewrite_history(db_pool: asyncpg.Pool, statement: str) -> None:
    async with db_pool.acquire() as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await _run(conn, statement, "vward_app")
        # Even the owner is refused, by the triggers.
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await _run(conn, statement, None)


async def test_the_application_role_may_append(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL ROLE vward_app")
        await record_audit(conn, principal=ALICE, action="test.append", request_id="as-app-role")


@pytest.fixture
def own_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database of this test's own, because tampering breaks the chain for everyone after it."""
    name, dsn = asyncio.run(create_database())

    async def prepare() -> None:
        pool = await create_pool(dsn, min_size=1, max_size=1)
        try:
            async with pool.acquire() as conn:
                await migrate(conn)
                for i in range(5):
                    await record_audit(conn, principal=ALICE, action="patient.read", request_id=f"r{i}", patient_id=i)
        finally:
            await pool.close()

    asyncio.run(prepare())
    monkeypatch.setenv("VWARD_DATABASE_URL", dsn)
    yield dsn
    asyncio.run(drop_database(name))


async def _tamper(dsn: str, statement: str, expected: str) -> int:
    """Run `statement` on the third row of the chain with triggers off (what only a superuser can do);
    returns the id that `expected` names as the first broken row afterwards."""
    conn = await asyncpg.connect(dsn)
    try:
        third: int = await conn.fetchval("SELECT seq FROM audit_log ORDER BY seq OFFSET 2 LIMIT 1")
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(statement, third)
        broken: int = await conn.fetchval(expected, third)
        return broken
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        # Content changed: that row breaks.
        ("UPDATE audit_log SET patient_id = 99 WHERE seq = $1", "SELECT id FROM audit_log WHERE seq = $1"),
        # Row removed: the next row's link breaks.
        ("DELETE FROM audit_log WHERE seq = $1", "SELECT id FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1"),
        # Row slipped in without the sealing trigger: it is outside the chain.
        (
            "INSERT INTO audit_log (username, role, action, patient_id) VALUES ('mallory', 'admin', 'forged', $1)",
            "SELECT id FROM audit_log WHERE seq IS NULL AND patient_id = $1",
        ),
    ],
)
def test_verify_reports_the_first_tampered_row(
    own_database: str, capsys: pytest.CaptureFixture[str], statement: str, expected: str
) -> None:
    assert vward("audit", "verify") == 0
    assert "intact: 5 rows" in capsys.readouterr().out
    broken = asyncio.run(_tamper(own_database, statement, expected))
    assert vward("audit", "verify") == 1
    assert f"BROKEN at row {broken}" in capsys.readouterr().out


async def test_rows_chained_before_sealing_at_commit_still_verify() -> None:
    """A database upgraded across 0032 keeps one chain: old rows in id order, new ones after them."""
    name, dsn = await create_database()
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        migrations = bundled_migrations()
        before = [m for m in migrations if m.version < "0032"]
        async with pool.acquire() as conn:
            await migrate(conn, before)
            for i in range(3):
                await record_audit(conn, principal=ALICE, action="old", request_id=f"old-{i}")
            await migrate(conn, migrations)
            await record_audit(conn, principal=ALICE, action="new", request_id="new")
            report = await verify_chain(conn)
            actions = [r["action"] for r in await conn.fetch("SELECT action FROM audit_log ORDER BY seq")]
            last_hash = await conn.fetchval("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    finally:
        await pool.close()
        await drop_database(name)
    assert (report.rows, report.first_broken_id, report.last_hash) == (4, None, last_hash)
    assert actions == ["old", "old", "old", "new"]
