-- Tamper-evident audit log and the application's database role.
--
-- Every row carries hash = sha256(prev_hash || canonical row text), chained in commit order: the
-- insert trigger takes a transaction-scoped advisory lock, so a second writer waits until the first
-- commits, and renumbers the row under that lock so id order is chain order. `vward audit verify`
-- recomputes the chain with its own copy of the canonical text (it must not trust a function stored in
-- the database it checks). Rows cannot be updated, deleted or truncated: triggers refuse, and the
-- application role `vward_app` (production runs the services as a login role in it) lacks the grants.
-- Only built-in sha256(bytea) is used: the embedded demo PostgreSQL has no pgcrypto.

ALTER TABLE audit_log ADD COLUMN break_glass text;  -- the stated reason, when a user broke the glass
CREATE INDEX audit_log_break_glass_idx ON audit_log (at) WHERE break_glass IS NOT NULL;

CREATE FUNCTION audit_log_canonical(r audit_log) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_array(
        r.id, to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), r.username, r.role, r.action,
        r.patient_id, r.object_type, r.object_id, r.request_id, r.detail, r.break_glass
    )::text
$$;

-- Backfill the chain over rows written before this migration, oldest first.
DO $$
DECLARE
    r audit_log;
    prev bytea := NULL;
BEGIN
    FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
        UPDATE audit_log SET prev_hash = prev,
            hash = sha256(coalesce(prev, ''::bytea) || convert_to(audit_log_canonical(r), 'UTF8'))
        WHERE id = r.id RETURNING hash INTO prev;
    END LOOP;
END
$$;

CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- "vward-au" in ASCII: one chain, one writer at a time, held until commit.
    PERFORM pg_advisory_xact_lock(8536398762638926197);
    NEW.id := nextval(pg_get_serial_sequence('audit_log', 'id'));
    SELECT hash INTO NEW.prev_hash FROM audit_log ORDER BY id DESC LIMIT 1;
    NEW.hash := sha256(coalesce(NEW.prev_hash, ''::bytea) || convert_to(audit_log_canonical(NEW), 'UTF8'));
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

CREATE FUNCTION audit_log_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_immutable();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_immutable();

-- The application role: everything it needs, nothing that rewrites history. Roles are cluster-wide,
-- so another database may have created it already; a migrating user without CREATEROLE gets a notice
-- and the deploy notes say how to create it by hand.
DO $$
BEGIN
    CREATE ROLE vward_app NOLOGIN;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
    WHEN insufficient_privilege THEN RAISE NOTICE 'cannot create role vward_app; see docs/security.md';
END
$$;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vward_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO vward_app;
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO vward_app;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO vward_app;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO vward_app;
        REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM vward_app;
    END IF;
END
$$;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
