-- Alert episodes: a clinical alert whose condition goes away clears only after it has stayed away for the
-- rule set's clear_after_minutes. absent_since is when it went away (NULL: present, or already cleared);
-- wavers counts how often it came back before clearing: one alert, one episode, shown, not re-notified.
ALTER TABLE alerts
    ADD COLUMN absent_since timestamptz,
    ADD COLUMN wavers integer NOT NULL DEFAULT 0;
