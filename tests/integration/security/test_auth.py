"""Authentication: rate-limited sign-in, idle and absolute session limits, instant disable, break-glass,
audited user changes from the CLI, and no start with a default secret."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from tests.integration.security.cli import vward
from tests.support.api import TEST_SECRET, api_client, make_user
from tests.support.waiting import budget
from vward.api.login_throttle import USERNAME_FAILURES
from vward.api.tokens import issue_token
from vward.domain.alerts import Role
from vward.settings import Settings
from vward.storage.users import set_disabled

pytestmark = pytest.mark.integration


async def _sign_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/token", data={"username": username, "password": password})


async def test_sign_in_is_rate_limited_per_username(settings: Settings, db_pool: asyncpg.Pool) -> None:
    username, password = await make_user(db_pool, Role.CLINICIAN)
    async with api_client(settings, db_pool, role=None) as client:
        for _ in range(USERNAME_FAILURES):
            assert (await _sign_in(client, username, "wrong-password")).status_code == 401
        blocked = await _sign_in(client, username, password)
        assert blocked.status_code == 429
        assert int(blocked.headers["Retry-After"]) > 0
        other, other_password = await make_user(db_pool, Role.CLINICIAN)
        assert (await _sign_in(client, other, other_password)).status_code == 200
        # A name no user can have (here with a NUL, which PostgreSQL refuses) is refused, not an error.
        assert (await _sign_in(client, "nurse\x00", "password")).status_code == 401


async def test_sign_ins_on_real_accounts_are_audited(settings: Settings, db_pool: asyncpg.Pool) -> None:
    username, password = await make_user(db_pool, Role.VIEWER)
    nobody = f"nobody-{uuid.uuid4().hex[:8]}"
    async with api_client(settings, db_pool, role=None) as client:
        for name, secret in ((username, "wrong-password"), (username, password), (nobody, "x")):
            request_id = f"signin-{uuid.uuid4().hex[:8]}"
            await client.post(
                "/api/v1/auth/token", data={"username": name, "password": secret}, headers={"X-Request-ID": request_id}
            )
    rows = await db_pool.fetch(
        "SELECT username, role, action FROM audit_log WHERE username = ANY($1::text[]) AND object_type = 'session'"
        " ORDER BY seq",
        [username, nobody],
    )
    assert [tuple(r) for r in rows] == [
        (username, "viewer", "auth.sign_in_refused"),
        (username, "viewer", "auth.sign_in"),
    ]


async def test_refresh_extends_an_active_session_but_not_past_its_limit(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    username, password = await make_user(db_pool, Role.CLINICIAN)
    now = datetime.now(UTC)
    async with api_client(settings, db_pool, role=None) as client:
        token = (await _sign_in(client, username, password)).json()["access_token"]
        fresh = await client.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {token}"})
        assert fresh.status_code == 200
        assert fresh.json()["expires_in"] == settings.token_ttl_minutes * 60
        ok = await client.get("/api/v1/patients", headers={"Authorization": f"Bearer {fresh.json()['access_token']}"})
        assert ok.status_code == 200

        idle = issue_token(
            TEST_SECRET,
            username=username,
            role=Role.CLINICIAN,
            now=now - timedelta(minutes=31),
            ttl=timedelta(minutes=30),
        )
        old = issue_token(
            TEST_SECRET,
            username=username,
            role=Role.CLINICIAN,
            now=now,
            ttl=timedelta(minutes=30),
            signed_in_at=now - timedelta(hours=13),
        )
        for token in (idle, old):
            response = await client.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401
        expired = await client.get("/api/v1/patients", headers={"Authorization": f"Bearer {idle}"})
        assert expired.status_code == 401


async def test_a_disabled_user_loses_access_at_once(settings: Settings, db_pool: asyncpg.Pool) -> None:
    username, password = await make_user(db_pool, Role.CLINICIAN)
    async with api_client(settings, db_pool, role=None) as client:
        token = (await _sign_in(client, username, password)).json()["access_token"]
        assert await set_disabled(db_pool, username, True)
        response = await client.get("/api/v1/patients", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert (await _sign_in(client, username, password)).status_code == 401


async def test_break_glass_opens_a_foreign_patient_and_flags_the_audit_row(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    async with api_client(settings, db_pool, Role.ADMIN) as admin:
        created = await admin.post(
            "/api/v1/patients", json={"mrn": f"BG-{uuid.uuid4().hex[:8]}", "display_name": "Glass", "ward": "Far"}
        )
        patient = created.json()["id"]
    request_id = f"bg-{uuid.uuid4().hex[:8]}"
    reason = "Patient arrived in ED unconscious, GP asked"
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=("Near",)) as clinician:
        assert (await clinician.get(f"/api/v1/patients/{patient}")).status_code == 404
        opened = await clinician.get(
            f"/api/v1/patients/{patient}", headers={"X-Break-Glass-Reason": reason, "X-Request-ID": request_id}
        )
        assert opened.status_code == 200
        short = await clinician.get(f"/api/v1/patients/{patient}", headers={"X-Break-Glass-Reason": "because"})
        assert short.status_code == 422
    async with api_client(settings, db_pool, Role.VIEWER, wards=("Near",)) as viewer:
        refused = await viewer.get(f"/api/v1/patients/{patient}", headers={"X-Break-Glass-Reason": reason})
        assert refused.status_code == 403
    rows = await db_pool.fetch(
        "SELECT action, patient_id, break_glass FROM audit_log WHERE request_id = $1", request_id
    )
    assert [tuple(r) for r in rows] == [("patient.read", patient, reason)]


def test_cli_user_changes_are_audited(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VWARD_DATABASE_URL", database_url)
    username = f"nurse-{uuid.uuid4().hex[:6]}"
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    assert vward("user", "add", username, "--role", "clinician", "--ward", "W1", "--password-stdin") == 0
    assert vward("user", "disable", username) == 0
    assert vward("user", "disable", f"{username}-nobody") == 1
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    with pytest.raises(SystemExit, match="at least 12"):
        vward("user", "add", username, "--role", "viewer", "--password-stdin")

    async def audit_rows() -> list[tuple[str, str, object]]:
        conn = await asyncpg.connect(database_url)
        try:
            rows = await conn.fetch(
                "SELECT action, username, detail::text FROM audit_log WHERE object_id = $1 ORDER BY id", username
            )
            return [tuple(r) for r in rows]
        finally:
            await conn.close()

    rows = asyncio.run(audit_rows())
    assert [r[0] for r in rows] == ["user.upsert", "user.disable"]
    assert all(str(r[1]).startswith("cli:") for r in rows)
    assert "password" not in str(rows[0][2])


def test_the_api_refuses_to_start_with_a_default_secret(database_url: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "VWARD_DATABASE_URL": database_url, "VWARD_SECRET_KEY": "changeme"}
    done = subprocess.run(
        [sys.executable, "-m", "vward.cli", "run", "api"], env=env, capture_output=True, text=True, timeout=budget(60)
    )
    assert done.returncode == 2
    assert "VWARD_SECRET_KEY" in done.stderr


async def test_patient_data_is_never_cached_and_never_framed(settings: Settings, db_pool: asyncpg.Pool) -> None:
    async with api_client(settings, db_pool, Role.CLINICIAN) as client:
        data = await client.get("/api/v1/patients")
        fhir = await client.get("/fhir/r4/metadata")
        health = await client.get("/healthz")
    for response in (data, fhir):
        assert response.headers["cache-control"] == "no-store"
    for response in (data, fhir, health):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
    assert "cache-control" not in health.headers
