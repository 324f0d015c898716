-- Device clocks (ingest.core.clock). A fast device's readings are stored on the platform's clock, each with
-- the correction that moved it, so the device's own time stays exact: device time = measured_at +
-- clock_correction_ms. Devices carry the correction in force (ingest reloads it on restart, so a resend is
-- corrected as it was first) and the latest estimate of their offset while it is beyond network jitter
-- (NULL when in sync), for the data-quality page and the rules' clock alert.
ALTER TABLE readings ADD COLUMN clock_correction_ms bigint;
ALTER TABLE devices
    ADD COLUMN clock_correction_ms bigint NOT NULL DEFAULT 0,
    ADD COLUMN clock_estimate_ms bigint,
    ADD COLUMN clock_estimated_at timestamptz;
