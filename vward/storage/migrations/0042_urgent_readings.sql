-- Urgent readings go first in the evaluation queue. `quiet_ranges` holds, per metric, the values that cannot
-- open or worsen an alert on their own under the published rule set (the rules worker writes it whenever
-- that changes; see rules/core/urgency.py). Ingest queues a patient as 'urgent' when a new reading falls
-- outside its metric's range; workers claim urgent patients first. The ranges only order the queue:
-- every queued patient is still evaluated.
CREATE TABLE quiet_ranges (
    metric     text PRIMARY KEY,
    above      double precision,  -- a value at or below this is unusual
    up_to      double precision,  -- a value above this is unusual
    usual_text text[],            -- text values (ACVPU): any other is unusual
    rule_set   text NOT NULL,     -- name and version of the rule set the ranges came from
    version    integer NOT NULL
);

-- A queue row only ever moves up: tick < readings (and other reasons) < urgent. A later insert for a
-- patient already queued meets the primary key and does nothing (ON CONFLICT DO NOTHING), so this trigger
-- raises the waiting row instead.
CREATE OR REPLACE FUNCTION eval_queue_upgrade_tick() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.reason = 'urgent' THEN
        UPDATE eval_queue SET reason = 'urgent' WHERE patient_id = NEW.patient_id AND reason <> 'urgent';
    ELSIF NEW.reason <> 'tick' THEN
        UPDATE eval_queue SET reason = NEW.reason WHERE patient_id = NEW.patient_id AND reason = 'tick';
    END IF;
    RETURN NEW;
END
$$;
