"""Settings refuse weak secrets; tokens round-trip and reject forgery and expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vward.api.passwords import hash_password, verify_password
from vward.api.tokens import InvalidToken, issue_token, read_token
from vward.domain.alerts import Role
from vward.settings import Settings, SettingsError

SECRET = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("weak", [None, "", "secret", "changeme", "short-secret"])
def test_weak_or_missing_secret_is_refused(weak: str | None) -> None:
    with pytest.raises(SettingsError, match="VWARD_SECRET_KEY"):
        Settings(secret_key=weak).require_secret()


def test_strong_secret_is_returned() -> None:
    assert Settings(secret_key=SECRET).require_secret() == SECRET


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VWARD_MQTT_TOPIC_PREFIX", "t1/")
    monkeypatch.setenv("VWARD_HTTP_PORT", "9001")
    settings = Settings()
    assert (settings.mqtt_topic_prefix, settings.http_port) == ("t1/", 9001)


def test_token_round_trip() -> None:
    now = datetime.now(UTC)
    token = issue_token(SECRET, username="nurse1", role=Role.CLINICIAN, now=now, ttl=timedelta(minutes=5))
    assert read_token(SECRET, token) == ("nurse1", Role.CLINICIAN)


def test_token_signed_with_another_secret_is_rejected() -> None:
    token = issue_token("x" * 32, username="nurse1", role=Role.ADMIN, now=datetime.now(UTC), ttl=timedelta(minutes=5))
    with pytest.raises(InvalidToken):
        read_token(SECRET, token)


def test_expired_token_is_rejected() -> None:
    issued = datetime.now(UTC) - timedelta(hours=1)
    token = issue_token(SECRET, username="nurse1", role=Role.CLINICIAN, now=issued, ttl=timedelta(minutes=5))
    with pytest.raises(InvalidToken):
        read_token(SECRET, token)


def test_password_hash_verifies_only_the_right_password() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "correct horse")
    assert not verify_password(hashed, "wrong horse")
    assert not verify_password(None, "anything")
