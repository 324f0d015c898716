-- Fresh readings outrank timer re-evaluations in the queue (the worker claims reason <> 'tick' first).
-- A patient the timer loop queued a moment before its readings arrived must not wait behind the tick
-- backlog: whatever inserts a non-tick row for a patient already queued by a tick upgrades that row,
-- even when the insert itself then meets the primary key and does nothing (ON CONFLICT DO NOTHING).
CREATE FUNCTION eval_queue_upgrade_tick() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.reason <> 'tick' THEN
        UPDATE eval_queue SET reason = NEW.reason WHERE patient_id = NEW.patient_id AND reason = 'tick';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER eval_queue_upgrade_tick BEFORE INSERT ON eval_queue
    FOR EACH ROW EXECUTE FUNCTION eval_queue_upgrade_tick();
