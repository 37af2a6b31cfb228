-- Key/value settings (default country, language, pacing defaults, ...).
-- Values are JSON so each setting keeps its own type.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL CHECK (json_valid(value)),
    updated_at INTEGER NOT NULL  -- unix milliseconds, UTC
) STRICT;
