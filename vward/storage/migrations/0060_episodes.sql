-- Episodes of care (issue 13). A patient is an identity (MRN, date of birth, optionally an NHS number) with
-- many stays; an episode is one stay, from admission to discharge, in one ward and team, on one pathway and
-- monitoring plan, ending with a coded outcome. Readings, alerts and device bindings stay keyed by patient,
-- so a readmitted patient's record keeps its history; the figures of a stay are found by its time range.
--
-- `patients` keeps, besides the identity, a copy of its latest episode's ward, pathway, plan and dates: the
-- rules, the worklist and scoping read one row per patient. The copy is written only by the trigger below,
-- in the same transaction as the episode, so it cannot drift; every write goes to `episodes`.

ALTER TABLE patients ADD COLUMN nhs_number text CHECK (nhs_number ~ '^[0-9]{10}$');
CREATE UNIQUE INDEX patients_nhs_number_key ON patients (nhs_number) WHERE nhs_number IS NOT NULL;

CREATE TABLE episodes (
    id              bigserial PRIMARY KEY,
    patient_id      bigint NOT NULL REFERENCES patients (id),
    ward            text NOT NULL,
    team            text,
    pathway         text NOT NULL CHECK (pathway IN ('general', 'copd', 'heart_failure', 'post_op')),
    spo2_scale      smallint NOT NULL DEFAULT 1 CHECK (spo2_scale IN (1, 2)),
    pregnant        boolean NOT NULL DEFAULT false,
    monitoring_plan jsonb NOT NULL DEFAULT '{}',
    -- how the stay began: from the community (admission avoided), stepped down from an acute hospital, or a
    -- transfer from another ward of the virtual ward (the same stay of care, not a readmission)
    source          text NOT NULL DEFAULT 'community' CHECK (source IN ('community', 'step_down', 'transfer')),
    admitted_at     timestamptz NOT NULL,
    discharged_at   timestamptz,
    -- NULL only on a stay still open, or one discharged before outcomes were recorded (migrated)
    outcome         text CHECK (outcome IN
                    ('completed', 'escalated_to_hospital', 'died', 'self_discharged', 'transferred')),
    outcome_reason  text,
    CHECK (discharged_at IS NULL OR discharged_at >= admitted_at),
    CHECK (discharged_at IS NOT NULL OR outcome IS NULL)
);
CREATE UNIQUE INDEX episodes_one_open_idx ON episodes (patient_id) WHERE discharged_at IS NULL;
CREATE INDEX episodes_patient_idx ON episodes (patient_id, admitted_at);
CREATE INDEX episodes_ward_time_idx ON episodes (ward, admitted_at);

-- What happened to a stay, in the order it happened: shown on the patient's timeline, counted by the
-- population view. `actor` is the user (or system) that recorded it.
CREATE TABLE episode_events (
    id          bigserial PRIMARY KEY,
    episode_id  bigint NOT NULL REFERENCES episodes (id),
    patient_id  bigint NOT NULL REFERENCES patients (id),
    kind        text NOT NULL CHECK (kind IN
                ('admitted', 'stepped_down', 'transferred', 'team_changed', 'stepped_up', 'discharged')),
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    from_ward   text,
    to_ward     text,
    from_team   text,
    to_team     text,
    outcome     text,
    reason      text,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX episode_events_patient_idx ON episode_events (patient_id, at);

CREATE FUNCTION episodes_mirror_latest() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE patients p SET ward = e.ward, pathway = e.pathway, spo2_scale = e.spo2_scale,
           pregnant = e.pregnant, monitoring_plan = e.monitoring_plan,
           admitted_at = e.admitted_at, discharged_at = e.discharged_at
      FROM (SELECT * FROM episodes WHERE patient_id = NEW.patient_id
             ORDER BY admitted_at DESC, id DESC LIMIT 1) e
     WHERE p.id = NEW.patient_id;
    RETURN NULL;
END $$;
CREATE TRIGGER episodes_mirror AFTER INSERT OR UPDATE ON episodes
    FOR EACH ROW EXECUTE FUNCTION episodes_mirror_latest();

-- Every patient has at least one stay: a patient row inserted on its own (a bulk load, a fixture) opens its
-- first one from the row's columns. `vward.storage.episodes.admit` inserts this way too, then sets the stay's
-- team and source and writes its event.
CREATE FUNCTION patients_first_episode() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO episodes (patient_id, ward, pathway, spo2_scale, pregnant, monitoring_plan, admitted_at,
                          discharged_at)
    VALUES (NEW.id, NEW.ward, NEW.pathway, NEW.spo2_scale, NEW.pregnant, NEW.monitoring_plan, NEW.admitted_at,
            NEW.discharged_at);
    RETURN NULL;
END $$;

-- Every patient so far had exactly one stay: it becomes their first episode, its events the admission and
-- (when discharged) a discharge whose outcome was not recorded.
INSERT INTO episodes (patient_id, ward, pathway, spo2_scale, pregnant, monitoring_plan, admitted_at, discharged_at)
SELECT id, ward, pathway, spo2_scale, pregnant, monitoring_plan, admitted_at, discharged_at
  FROM patients ORDER BY id;
INSERT INTO episode_events (episode_id, patient_id, kind, at, actor, to_ward, reason)
SELECT id, patient_id, 'admitted', admitted_at, 'migration', ward, 'recorded before episodes' FROM episodes;
INSERT INTO episode_events (episode_id, patient_id, kind, at, actor, from_ward, reason)
SELECT id, patient_id, 'discharged', discharged_at, 'migration', ward, 'outcome not recorded'
  FROM episodes WHERE discharged_at IS NOT NULL;

CREATE TRIGGER patients_first_episode AFTER INSERT ON patients
    FOR EACH ROW EXECUTE FUNCTION patients_first_episode();
