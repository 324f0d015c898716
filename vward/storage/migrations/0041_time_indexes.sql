-- The audit trail and the alert-burden meter read newest (or recent) rows across all patients.
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX alerts_opened_at_idx ON alerts (opened_at);
