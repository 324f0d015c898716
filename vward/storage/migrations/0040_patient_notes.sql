-- Free-text notes clinicians add to a patient's record; never changed or removed, like the audit log.
CREATE TABLE patient_notes (
    id         bigserial PRIMARY KEY,
    patient_id bigint NOT NULL REFERENCES patients (id),
    at         timestamptz NOT NULL DEFAULT now(),
    author     text NOT NULL,
    text       text NOT NULL CHECK (length(text) BETWEEN 1 AND 4000)
);
CREATE INDEX patient_notes_patient_idx ON patient_notes (patient_id, at DESC, id DESC);
