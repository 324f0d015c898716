"""Typed settings from the environment (prefix VWARD_), built once by the CLI and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Secrets that must never protect real patient data.
_WEAK_SECRETS = frozenset({"", "secret", "changeme", "change-me", "dev", "development"})


class SettingsError(ValueError):
    """The configuration cannot run safely; the message says what to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VWARD_", extra="ignore")

    database_url: str | None = Field(default=None, description="postgresql://user@host:port/db")
    mqtt_url: str | None = Field(default=None, description="mqtt://[user:pass@]host:port")
    mqtt_topic_prefix: str = Field(default="", description="prepended to every topic (tests isolate with it)")
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    metrics_port: int | None = Field(
        default=None, description="Prometheus /metrics port for processes without the api role (ingest, rules)"
    )
    secret_key: SecretStr | None = None
    demo_password: SecretStr | None = None
    data_dir: Path = Path(".vward")
    timezone: str = Field(default="Europe/London", description="the ward's time zone for display")

    db_pool_min: int = 2
    db_pool_max: int = 10

    # Ingest micro-batches close at whichever bound is reached first.
    ingest_batch_rows: int = 5000
    ingest_batch_ms: int = 50
    ingest_client_id: str = "vward-ingest-1"
    ingest_shared_group: str = Field(
        default="vward-ingest",
        description="MQTT shared-subscription group ($share/<group>/...) that ingest processes split messages in; "
        "empty: a plain subscription, for one ingest process on a broker without shared subscriptions (amqtt)",
    )
    ingest_mqtt_version: Literal["5", "3.1.1"] = Field(
        default="5",
        description="ingest's MQTT protocol: 5 (Receive Maximum, session expiry) or 3.1.1 for brokers without v5 "
        "(amqtt), still with manual acks and a persistent session (clean_session=False)",
    )
    # MQTT v5 Receive Maximum: unacknowledged messages the broker may send ingest (acks follow commits),
    # which bounds ingest's memory; keep it above a few batches' worth of messages.
    ingest_receive_maximum: int = Field(default=5000, ge=1, le=65535)
    # Batches committed concurrently, each on its own connection (the database then uses more cores).
    ingest_writers: int = Field(default=1, ge=1, le=16)

    # Rules worker: how long it sleeps when the queue is empty, and the timer loop's tick.
    rules_poll_ms: int = 200
    rules_tick_s: float = 5.0
    rules_batch_size: int = Field(default=50, ge=1, description="most patients claimed and evaluated per transaction")
    rules_batch_budget_ms: float = Field(
        default=100,
        gt=0,
        description="batches shrink to about this long, so urgent readings wait for no long batch in progress",
    )
    rules_ruleset: str = Field(
        default="default",
        description="name of the rule set whose published version runs (the API reads it to say which one is live)",
    )
    ruleset_four_eyes: bool = Field(
        default=True,
        description="a rule set draft is published only by someone other than who wrote or last edited it",
    )
    # Quiet patients are re-evaluated this often so that time-based rules (stale data, overdue) fire.
    rules_reeval_s: float = 60.0
    # No reading at all platform-wide for this long raises one system alert instead of one per patient.
    rules_ingest_stall_s: float = 300.0
    # Rule set previews replay in this many processes (CPU-bound Python: one per core you can spare).
    rules_preview_processes: int = Field(default=1, ge=1)

    # Outbound notifications (webhook); without a URL alerts are only shown, never sent.
    notify_webhook_url: str | None = None
    notify_webhook_secret: SecretStr | None = None
    notify_timeout_s: float = 5.0
    notify_max_backoff_s: float = 300.0

    token_ttl_minutes: int = 30

    def require_secret(self) -> str:
        """The signing secret; refuses to run with none or a well-known default outside the demo."""
        value = self.secret_key.get_secret_value() if self.secret_key else ""
        if value.lower() in _WEAK_SECRETS or len(value) < 16:
            raise SettingsError(
                "VWARD_SECRET_KEY must be set to a random string of at least 16 characters "
                "(only `vward demo` generates one for itself)"
            )
        return value
