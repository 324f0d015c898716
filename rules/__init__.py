"""Rules engine: NEWS2, thresholds, trends, staleness, alert lifecycle and escalation."""
