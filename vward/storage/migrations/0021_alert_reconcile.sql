-- What reconcile needs to know about an open alert beyond 0001: whether its rule lets it close itself when
-- the condition clears (machines, no-data; clinical alerts never do: a person closes them with an outcome),
-- and when its condition cleared while it waits for that person.
ALTER TABLE alerts ADD COLUMN auto_resolve boolean NOT NULL DEFAULT false;
ALTER TABLE alerts ADD COLUMN cleared_at timestamptz;
