-- Schedules: a blast at a time, or recurring, in an explicit IANA time zone.
CREATE TABLE schedules (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    blast_spec    TEXT NOT NULL CHECK (json_valid(blast_spec)),  -- account, template, audiences, options
    rule          TEXT NOT NULL CHECK (json_valid(rule)),        -- once / daily / weekly / monthly
    time_zone     TEXT NOT NULL,
    grace_seconds INTEGER NOT NULL DEFAULT 3600 CHECK (grace_seconds >= 0),
    refresh       TEXT CHECK (refresh IS NULL OR json_valid(refresh)),  -- linked spreadsheet to re-import
    enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    next_run_at   INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

-- Each due instant of a schedule, recorded once: ran, skipped (with the reason) or missed.
CREATE TABLE schedule_runs (
    id          INTEGER PRIMARY KEY,
    schedule_id INTEGER NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    due_at      INTEGER NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('started', 'skipped', 'missed')),
    detail      TEXT,
    blast_id    INTEGER REFERENCES blasts (id) ON DELETE SET NULL,
    recorded_at INTEGER NOT NULL,
    UNIQUE (schedule_id, due_at)    -- a due instant runs at most once
) STRICT;
