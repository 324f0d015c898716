-- Rules engine: immutable rule set history, shadow evaluation, platform-wide (system) alerts and the
-- queries the notifier and the timer loop claim work with.

-- Published and retired versions are history: the only change they admit is published -> retired,
-- and only drafts can be deleted. Publishing a draft (draft -> published) is an ordinary update.
CREATE FUNCTION rule_sets_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'rule set % version % is %: only drafts can be deleted', OLD.name, OLD.version, OLD.status
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status = 'draft' THEN
        RETURN NEW;
    END IF;
    IF OLD.status = 'published' AND NEW.status = 'retired'
       AND to_jsonb(NEW) - 'status' = to_jsonb(OLD) - 'status' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'rule set % version % is %: published versions are immutable', OLD.name, OLD.version, OLD.status
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER rule_sets_immutable BEFORE UPDATE OR DELETE ON rule_sets
    FOR EACH ROW EXECUTE FUNCTION rule_sets_immutable();

-- Only a draft can run in shadow; publishing clears the flag in the same update.
ALTER TABLE rule_sets ADD CONSTRAINT rule_sets_shadow_is_draft CHECK (NOT shadow OR status = 'draft');

-- Would-be alerts of shadow rule sets: evaluated live on real data, never notified, never shown as alerts.
CREATE TABLE shadow_alerts (
    id          bigserial PRIMARY KEY,
    rule_set_id bigint NOT NULL REFERENCES rule_sets (id) ON DELETE CASCADE,
    patient_id  bigint NOT NULL REFERENCES patients (id),
    rule_id     text NOT NULL,
    severity    smallint NOT NULL CHECK (severity BETWEEN 0 AND 3),
    title       text NOT NULL,
    reason      jsonb NOT NULL DEFAULT '{}',
    opened_at   timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    closed_at   timestamptz
);
CREATE UNIQUE INDEX shadow_alerts_one_open ON shadow_alerts (rule_set_id, patient_id, rule_id)
    WHERE closed_at IS NULL;
CREATE INDEX shadow_alerts_rule_set_idx ON shadow_alerts (rule_set_id, opened_at);

-- System alerts (a stalled ingest) concern the platform, not a patient: one open per rule.
ALTER TABLE alerts ALTER COLUMN patient_id DROP NOT NULL;
CREATE UNIQUE INDEX alerts_one_open_system ON alerts (rule_id) WHERE patient_id IS NULL AND state <> 'resolved';
CREATE INDEX alerts_state_idx ON alerts (state, severity, opened_at DESC);
CREATE INDEX alerts_snoozed_idx ON alerts (snoozed_until) WHERE state = 'snoozed';

CREATE INDEX notification_outbox_alert_idx ON notification_outbox (alert_id);
