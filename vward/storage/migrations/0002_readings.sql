-- Readings: a TimescaleDB hypertable (with compression and retention) when the extension is
-- installed, else a natively range-partitioned table whose daily partitions the platform creates
-- ahead of time (vward.storage.partitions). Both keep the de-duplication key, which includes the
-- time column as TimescaleDB requires of every unique key.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
        CREATE TABLE readings (
            device_id   text NOT NULL,
            msg_id      text NOT NULL,
            metric      text NOT NULL,
            value       double precision,
            value_text  text,
            measured_at timestamptz NOT NULL,
            received_at timestamptz NOT NULL,
            patient_id  bigint NOT NULL,
            flags       text[] NOT NULL DEFAULT '{}',
            UNIQUE (device_id, msg_id, metric, measured_at)
        );
        PERFORM create_hypertable('readings', 'measured_at', chunk_time_interval => interval '1 day');
        EXECUTE 'ALTER TABLE readings SET (timescaledb.compress, '
             || 'timescaledb.compress_segmentby = ''patient_id, metric'')';
        PERFORM add_compression_policy('readings', interval '7 days');
        PERFORM add_retention_policy('readings', interval '400 days');
    ELSE
        CREATE TABLE readings (
            device_id   text NOT NULL,
            msg_id      text NOT NULL,
            metric      text NOT NULL,
            value       double precision,
            value_text  text,
            measured_at timestamptz NOT NULL,
            received_at timestamptz NOT NULL,
            patient_id  bigint NOT NULL,
            flags       text[] NOT NULL DEFAULT '{}',
            UNIQUE (device_id, msg_id, metric, measured_at)
        ) PARTITION BY RANGE (measured_at);
        -- Catches readings from skewed clocks (1970, next year) so that nothing is ever dropped.
        CREATE TABLE readings_default PARTITION OF readings DEFAULT;
    END IF;
END
$$;
CREATE INDEX readings_patient_time_idx ON readings (patient_id, metric, measured_at);
