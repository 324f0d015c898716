-- Broker credentials the platform issues: one per device (its username is the device id, which the
-- broker's ACL pattern turns into "may publish only under its own topics") and one per service
-- (ingest). Only a hash in Mosquitto's own format is kept; the password is shown once at issue.
CREATE TABLE mqtt_credentials (
    username      text PRIMARY KEY CHECK (username ~ '^[A-Za-z0-9._-]{1,64}$'),
    kind          text NOT NULL CHECK (kind IN ('device', 'service')),
    password_hash text NOT NULL,
    issued_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);
