"""MQTT ingestion: decode, validate, de-duplicate and store device readings."""
