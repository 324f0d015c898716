-- Seal audit rows at commit instead of at insert.
--
-- 0030 chained each row as it was inserted, holding the chain's advisory lock from a transaction's
-- first audit row to its commit. A transaction that then locked more rows (the rules worker moves on
-- to the next patient's alerts) could deadlock with one holding those rows and waiting for the chain
-- (a clinician acting on an alert), and every audit writer waited for the slowest. Now a deferred
-- constraint trigger links the transaction's rows into the chain while it commits, when it takes no
-- more row locks, and holds the lock only for the commit itself. `seq` is the chain order (commit
-- order); ids keep their allocation order. Audit-writing transactions must be READ COMMITTED (the
-- default): a snapshot older than the previous seal would reuse its `seq`, which the unique index refuses.

ALTER TABLE audit_log ADD COLUMN seq bigint;

-- Rows chained by 0030 are in id order.
ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change;
UPDATE audit_log a SET seq = n.rn FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM audit_log) n
WHERE a.id = n.id;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change;
CREATE UNIQUE INDEX audit_log_seq_idx ON audit_log (seq);

DROP TRIGGER audit_log_chain ON audit_log;
DROP FUNCTION audit_log_chain();

-- The chain columns are the platform's to set, never the writer's.
CREATE FUNCTION audit_log_unsealed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.seq := NULL;
    NEW.prev_hash := NULL;
    NEW.hash := NULL;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_unsealed BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_unsealed();

-- Runs as the owner: the application role may not update audit rows, sealing included.
CREATE FUNCTION audit_log_seal() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    last_seq bigint;
    last_hash bytea;
BEGIN
    -- "vward-au" in ASCII: one chain, one sealer at a time, until this commit ends.
    PERFORM pg_advisory_xact_lock(8536398762638926197);
    SELECT seq, hash INTO last_seq, last_hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1;
    UPDATE audit_log SET seq = coalesce(last_seq, 0) + 1, prev_hash = last_hash,
        hash = sha256(coalesce(last_hash, ''::bytea) || convert_to(audit_log_canonical(NEW), 'UTF8'))
    WHERE id = NEW.id;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER audit_log_seal AFTER INSERT ON audit_log DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION audit_log_seal();

-- Append-only still, except the one update sealing makes: an unsealed row gets its place in the chain.
CREATE OR REPLACE FUNCTION audit_log_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
       AND to_jsonb(NEW) - 'seq' - 'prev_hash' - 'hash' = to_jsonb(OLD) - 'seq' - 'prev_hash' - 'hash' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
