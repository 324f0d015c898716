-- Core schema: patients, devices and bindings, dead letters, evaluation queue, rule sets,
-- alerts and their events, notification outbox, audit log and users.
-- Readings live in 0002 (TimescaleDB hypertable or native partitions).

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9._-]{1,64}$'),
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('clinician', 'ops', 'admin', 'viewer')),
    wards         text[] NOT NULL DEFAULT '{}',   -- empty = every ward
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE patients (
    id              bigserial PRIMARY KEY,
    mrn             text NOT NULL UNIQUE,
    display_name    text NOT NULL,
    ward            text NOT NULL,
    pathway         text NOT NULL DEFAULT 'general'
                    CHECK (pathway IN ('general', 'copd', 'heart_failure', 'post_op')),
    spo2_scale      smallint NOT NULL DEFAULT 1 CHECK (spo2_scale IN (1, 2)),
    date_of_birth   date,
    pregnant        boolean NOT NULL DEFAULT false,
    monitoring_plan jsonb NOT NULL DEFAULT '{}',
    admitted_at     timestamptz NOT NULL,
    discharged_at   timestamptz,
    CHECK (discharged_at IS NULL OR discharged_at >= admitted_at)
);
CREATE INDEX patients_ward_idx ON patients (ward) WHERE discharged_at IS NULL;

CREATE TABLE devices (
    id           text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._-]{1,64}$'),
    kind         text NOT NULL,
    online       boolean,
    battery      smallint CHECK (battery BETWEEN 0 AND 100),
    status_at    timestamptz,
    last_seen_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE device_bindings (
    id         bigserial PRIMARY KEY,
    device_id  text NOT NULL REFERENCES devices (id),
    patient_id bigint NOT NULL REFERENCES patients (id),
    valid      tstzrange NOT NULL CHECK (NOT isempty(valid))
);
CREATE INDEX device_bindings_patient_idx ON device_bindings (patient_id);
CREATE INDEX device_bindings_device_idx ON device_bindings (device_id);

-- A device speaks for one patient at a time. (An EXCLUDE constraint would need btree_gist, which the
-- embedded PostgreSQL of the demo lacks; this trigger serialises on the device row instead.)
CREATE FUNCTION device_bindings_no_overlap() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM devices WHERE id = NEW.device_id FOR UPDATE;
    IF EXISTS (SELECT 1 FROM device_bindings
               WHERE device_id = NEW.device_id AND id <> NEW.id AND valid && NEW.valid) THEN
        RAISE EXCEPTION 'device % is already bound during %', NEW.device_id, NEW.valid
            USING ERRCODE = 'exclusion_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER device_bindings_no_overlap BEFORE INSERT OR UPDATE ON device_bindings
    FOR EACH ROW EXECUTE FUNCTION device_bindings_no_overlap();

CREATE TABLE dead_letter (
    id           bigserial PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now(),
    topic        text NOT NULL,
    device_id    text,
    reason       text NOT NULL,
    detail       text NOT NULL DEFAULT '',
    payload      bytea NOT NULL,           -- bounded copy of the raw bytes
    payload_size integer NOT NULL
);
CREATE INDEX dead_letter_received_idx ON dead_letter (received_at);
CREATE INDEX dead_letter_reason_idx ON dead_letter (reason, received_at);

-- Latest value per (patient, metric): what NEWS2 and the triage list read without scanning readings.
CREATE TABLE latest_observations (
    patient_id  bigint NOT NULL REFERENCES patients (id),
    metric      text NOT NULL,
    value       double precision,
    value_text  text,
    measured_at timestamptz NOT NULL,
    device_id   text NOT NULL,
    PRIMARY KEY (patient_id, metric)
);

-- Patients waiting for rule evaluation; claimed with FOR UPDATE SKIP LOCKED.
CREATE TABLE eval_queue (
    patient_id bigint PRIMARY KEY REFERENCES patients (id),
    queued_at  timestamptz NOT NULL DEFAULT now(),
    reason     text NOT NULL DEFAULT 'readings'
);

CREATE TABLE rule_sets (
    id             bigserial PRIMARY KEY,
    name           text NOT NULL,
    version        integer NOT NULL,
    status         text NOT NULL CHECK (status IN ('draft', 'published', 'retired')),
    body           jsonb NOT NULL,
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    published_by   text,
    published_at   timestamptz,
    publish_reason text,
    shadow         boolean NOT NULL DEFAULT false,
    UNIQUE (name, version)
);
-- At most one published version per rule set name.
CREATE UNIQUE INDEX rule_sets_one_published ON rule_sets (name) WHERE status = 'published';

-- The latest NEWS2 of each patient, for the triage list.
CREATE TABLE patient_scores (
    patient_id       bigint PRIMARY KEY REFERENCES patients (id),
    score            smallint,
    band             text,
    complete         boolean NOT NULL,
    missing          text[] NOT NULL DEFAULT '{}',
    parameters       jsonb NOT NULL DEFAULT '{}',
    computed_at      timestamptz NOT NULL,
    rule_set_version integer
);

-- NEWS2 history, one row per evaluation that changed the score: the patient's chart.
CREATE TABLE score_history (
    patient_id  bigint NOT NULL REFERENCES patients (id),
    computed_at timestamptz NOT NULL,
    score       smallint,
    band        text,
    complete    boolean NOT NULL,
    parameters  jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (patient_id, computed_at)
);

CREATE TABLE alerts (
    id                 bigserial PRIMARY KEY,
    patient_id         bigint NOT NULL REFERENCES patients (id),
    rule_id            text NOT NULL,
    rule_set_name      text NOT NULL,
    rule_set_version   integer NOT NULL,
    severity           smallint NOT NULL CHECK (severity BETWEEN 0 AND 3),
    state              text NOT NULL
                       CHECK (state IN ('open', 'acknowledged', 'escalated', 'snoozed', 'resolved')),
    title              text NOT NULL,
    reason             jsonb NOT NULL DEFAULT '{}',
    opened_at          timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    acknowledged_at    timestamptz,
    acknowledged_by    text,
    resolved_at        timestamptz,
    resolved_by        text,
    outcome            text,
    snoozed_until      timestamptz,
    snooze_reason      text,
    escalation_policy  jsonb NOT NULL DEFAULT '{}',   -- snapshot taken when the alert opened
    escalation_tier    integer NOT NULL DEFAULT 0,
    next_escalation_at timestamptz,
    muted_by           bigint REFERENCES alerts (id),
    CHECK (state <> 'resolved' OR (resolved_at IS NOT NULL AND resolved_by IS NOT NULL))
);
-- One open alert per (patient, rule): the database, not the code, makes it so.
CREATE UNIQUE INDEX alerts_one_open ON alerts (patient_id, rule_id) WHERE state <> 'resolved';
CREATE INDEX alerts_due_idx ON alerts (next_escalation_at) WHERE state <> 'resolved';
CREATE INDEX alerts_patient_idx ON alerts (patient_id, opened_at);

CREATE TABLE alert_events (
    id         bigserial PRIMARY KEY,
    alert_id   bigint NOT NULL REFERENCES alerts (id),
    at         timestamptz NOT NULL,
    kind       text NOT NULL,
    actor      text NOT NULL,
    from_state text,
    to_state   text,
    severity   smallint,
    detail     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_events_alert_idx ON alert_events (alert_id, at);

CREATE TABLE notification_outbox (
    id              bigserial PRIMARY KEY,
    alert_id        bigint REFERENCES alerts (id),
    idempotency_key text NOT NULL UNIQUE,
    channel         text NOT NULL,
    target          text NOT NULL,
    payload         jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    last_error      text
);
CREATE INDEX notification_outbox_due_idx ON notification_outbox (next_attempt_at) WHERE sent_at IS NULL;

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    username    text NOT NULL,
    role        text NOT NULL,
    action      text NOT NULL,
    patient_id  bigint,
    object_type text,
    object_id   text,
    request_id  text,
    detail      jsonb NOT NULL DEFAULT '{}',
    prev_hash   bytea,
    hash        bytea
);
CREATE INDEX audit_log_patient_idx ON audit_log (patient_id, at);
