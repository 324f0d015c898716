"""Devices speak only for themselves: the real Mosquitto with the shipped ACL and platform-issued
passwords refuses anonymous and wrong-password clients, drops a device's writes to another device's
topic (so ingest stores 0 rows for it), and serves TLS with the development CA."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import ssl
import subprocess
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from ingest.service import IngestService
from tests.integration.security.broker import SecureBroker, connect, disconnect, start_secure_broker
from tests.integration.security.cli import vward
from tests.support.servers import REPO
from tests.support.waiting import budget, eventually, finishes, until
from vward.domain.alerts import Role
from vward.domain.patients import DeviceKind
from vward.domain.users import Principal
from vward.settings import Settings
from vward.storage.device_credentials import CredentialKind, issue_credentials, password_file_lines
from vward.storage.episodes import Identity, Stay, admit
from vward.storage.patients import bind_device, register_device

pytestmark = pytest.mark.integration

OPERATOR = Principal(username="test-operator", role=Role.ADMIN)
WAIT_S = budget(30)


async def _device(pool: asyncpg.Pool, device_id: str) -> str:
    """Admit a patient, bind the device to them and issue its broker password."""
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        patient = (
            await admit(conn, Identity(f"ACL-{uuid.uuid4().hex[:10]}", "Acl Test"), Stay("ACL"), now, "test")
        ).patient_id
        await register_device(conn, device_id, DeviceKind.OXIMETER)
        await bind_device(conn, device_id, patient, now)
        return await issue_credentials(conn, device_id, kind=CredentialKind.DEVICE, actor=OPERATOR)


@pytest.fixture
async def secure(
    db_pool: asyncpg.Pool, tmp_path: Path, topic_prefix: str
) -> AsyncIterator[tuple[SecureBroker, dict[str, str]]]:
    """The broker, and passwords by username: two devices and the ingest service."""
    suffix = uuid.uuid4().hex[:8]
    passwords = {name: await _device(db_pool, name) for name in (f"dev-a-{suffix}", f"dev-b-{suffix}")}
    async with db_pool.acquire() as conn, conn.transaction():
        passwords["vward-ingest"] = await issue_credentials(
            conn, "vward-ingest", kind=CredentialKind.SERVICE, actor=OPERATOR
        )
        lines = await password_file_lines(conn)
    broker = start_secure_broker(tmp_path, lines, topic_prefix)
    yield broker, passwords
    broker.broker.stop()


def _payload(msg_id: str) -> bytes:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    reading = {"metric": "heart_rate", "value": 77, "unit": "/min", "measured_at": now}
    return json.dumps({"msg_id": msg_id, "sent_at": now, "readings": [reading]}).encode()


def test_anonymous_and_wrong_passwords_are_refused(secure: tuple[SecureBroker, dict[str, str]]) -> None:
    broker, passwords = secure
    device = next(name for name in passwords if name.startswith("dev-a"))
    for username, password in ((None, None), (device, "not-the-password"), ("nobody", passwords[device])):
        client, reason = connect(broker.port, username, password, client_id=f"bad-{uuid.uuid4().hex[:6]}")
        disconnect(client)
        assert reason.is_failure, (username, reason)
    client, reason = connect(broker.port, device, passwords[device], client_id=device)
    disconnect(client)
    assert not reason.is_failure


async def test_a_device_cannot_publish_for_another_device(
    secure: tuple[SecureBroker, dict[str, str]], settings: Settings, db_pool: asyncpg.Pool, topic_prefix: str
) -> None:
    broker, passwords = secure
    device_a, device_b = sorted(name for name in passwords if name.startswith("dev-"))
    ingest_url = f"mqtt://vward-ingest:{passwords['vward-ingest']}@127.0.0.1:{broker.port}"
    service = IngestService(settings.model_copy(update={"mqtt_url": ingest_url}), db_pool)
    stop = asyncio.Event()
    running = asyncio.create_task(service.run(stop))
    try:

        def subscribed() -> bool:
            assert not running.done(), running
            return service.edge is not None and service.edge.subscribed.is_set()

        await until(subscribed, within=30, what="ingest subscribed on the secured broker")
        client, reason = await asyncio.to_thread(
            connect, broker.port, device_a, passwords[device_a], client_id=device_a
        )
        assert not reason.is_failure
        # The forged message goes first: once A's own message is stored, the broker has long dealt with it.
        forged = client.publish(f"{topic_prefix}vward/v1/devices/{device_b}/readings", _payload("forged-1"), qos=1)
        own = client.publish(f"{topic_prefix}vward/v1/devices/{device_a}/readings", _payload("own-1"), qos=1)
        await asyncio.to_thread(forged.wait_for_publish, WAIT_S)
        await asyncio.to_thread(own.wait_for_publish, WAIT_S)
        disconnect(client)
        await _until_stored(db_pool, device_a)
    finally:
        stop.set()
        await finishes(running, within=30, what="ingest's clean stop")
    assert await db_pool.fetchval("SELECT count(*) FROM readings WHERE device_id = $1", device_b) == 0
    assert await db_pool.fetchval("SELECT count(*) FROM dead_letter WHERE topic LIKE $1", f"%/{device_b}/%") == 0


async def _until_stored(pool: asyncpg.Pool, device_id: str) -> None:
    """Poll (the database has no event to wait on) until the device has a stored reading."""
    await eventually(
        lambda: pool.fetchval("SELECT count(*) FROM readings WHERE device_id = $1", device_id),
        within=30,
        what=f"a stored reading from {device_id}",
    )


def test_tls_listener_serves_the_dev_ca_certificate(secure: tuple[SecureBroker, dict[str, str]]) -> None:
    broker, passwords = secure
    device = next(name for name in passwords if name.startswith("dev-a"))
    client, reason = connect(
        broker.tls_port, device, passwords[device], client_id=f"tls-{device}", ca_file=broker.tls_dir / "ca.crt"
    )
    disconnect(client)
    assert not reason.is_failure


def test_tls_refuses_an_untrusted_certificate_and_plain_mqtt(
    secure: tuple[SecureBroker, dict[str, str]], tmp_path: Path
) -> None:
    broker, passwords = secure
    device = next(name for name in passwords if name.startswith("dev-a"))
    other_ca = tmp_path / "other-ca"
    subprocess.run([str(REPO / "deploy/tls/make-dev-ca.sh"), str(other_ca)], check=True, capture_output=True)
    with pytest.raises(ssl.SSLCertVerificationError):
        connect(broker.tls_port, device, passwords[device], client_id="untrusted", ca_file=other_ca / "ca.crt")
    # Plain MQTT to the TLS port never gets a CONNACK.
    with pytest.raises((TimeoutError, ConnectionError)):
        connect(broker.tls_port, device, passwords[device], client_id="plain", timeout=3)


def test_cli_issues_exports_and_revokes_credentials(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VWARD_DATABASE_URL", database_url)
    name = f"cli-dev-{uuid.uuid4().hex[:8]}"
    passwd = tmp_path / "passwd"
    assert vward("device", "credentials", "issue", name) == 0
    password = capsys.readouterr().out.strip()
    assert vward("device", "credentials", "export", "--password-file", str(passwd)) == 0
    line = next(line for line in passwd.read_text().splitlines() if line.startswith(f"{name}:"))
    _, _, iterations, salt, digest = line.split(":", 1)[1].split("$")
    expected = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt), int(iterations))
    assert base64.b64decode(digest) == expected
    assert passwd.stat().st_mode & 0o777 == 0o600
    assert vward("device", "credentials", "revoke", name) == 0
    assert vward("device", "credentials", "revoke", name) == 1
    assert vward("device", "credentials", "export", "--password-file", str(passwd)) == 0
    assert f"{name}:" not in passwd.read_text()
