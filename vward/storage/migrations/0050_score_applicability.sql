-- What the triage list must say about a score without re-deriving it: whether a parameter scored 3 (the
-- red score), whether NEWS2 applies to the patient at all and why not (under 16, pregnant), and for an
-- incomplete set the sum of its known parameters, a lower bound (a missing parameter can only add points).
-- Rows written before this migration keep the defaults until the patient's next evaluation rewrites them.
ALTER TABLE patient_scores
    ADD COLUMN red_score   boolean NOT NULL DEFAULT false,
    ADD COLUMN applicable  boolean NOT NULL DEFAULT true,
    ADD COLUMN reason      text,
    ADD COLUMN lower_bound smallint;
