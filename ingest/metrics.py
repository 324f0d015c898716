"""Prometheus counters of the ingest edge (exposed by the API's /metrics). Labels are reason codes, never ids."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter("vward_ingest_messages_total", "MQTT messages committed, by outcome", ["outcome"])
REJECTED = Counter("vward_ingest_rejected_total", "Messages dead-lettered, by reason code", ["reason"])
READINGS = Counter("vward_ingest_readings_total", "Readings newly stored (resends excluded)")
DUPLICATES = Counter("vward_ingest_duplicate_readings_total", "Readings already stored (a resend or redelivery)")
BATCH_SECONDS = Histogram(
    "vward_ingest_batch_commit_seconds",
    "Time to commit one micro-batch",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
RECEIVE_TO_COMMIT = Histogram(
    "vward_ingest_receive_to_commit_seconds",
    "From arrival at ingest to commit",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DB_ERRORS = Counter("vward_ingest_db_errors_total", "Failed batch commits", ["kind"])
CONNECTS = Counter("vward_ingest_mqtt_connects_total", "Connection attempts to the broker", ["result"])
HANDLER_ERRORS = Counter("vward_ingest_handler_errors_total", "Messages whose handler raised (logged, skipped)")
DROPPED_QOS0 = Counter("vward_ingest_dropped_qos0_total", "QoS 0 messages dropped because the inbox was full")
UNSTORABLE = Counter("vward_ingest_unstorable_total", "Messages the database refused even as a dead letter")
INBOX = Gauge("vward_ingest_inbox_messages", "Messages received and not yet taken into a batch")
