-- Per-patient threshold overrides (a COPD patient's 88-92% SpO2 target): always with a reason and an
-- expiry. Expired ones are kept and still loaded, so the rules flag them for review instead of silently
-- reverting; a new override of the same metric replaces the old one, which is kept as removed.
CREATE TABLE threshold_overrides (
    id         bigserial PRIMARY KEY,
    patient_id bigint NOT NULL REFERENCES patients (id),
    metric     text NOT NULL,
    low        double precision,
    high       double precision,
    reason     text NOT NULL CHECK (length(btrim(reason)) > 0),
    expires_at timestamptz NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    removed_at timestamptz,
    removed_by text,
    CHECK (low IS NOT NULL OR high IS NOT NULL)
);
CREATE UNIQUE INDEX threshold_overrides_one_live ON threshold_overrides (patient_id, metric) WHERE removed_at IS NULL;
