"""Pure ingest core: topics, payload decoding, plausibility and clock-skew checks. No I/O, no clock."""
