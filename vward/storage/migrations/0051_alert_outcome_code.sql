-- A resolved alert's coded outcome (vward.domain.alerts.ResolveOutcome) beside the free text, so the ward
-- can count what its alerts led to. Alerts resolved before this migration keep their text and no code.
ALTER TABLE alerts ADD COLUMN outcome_code text;
