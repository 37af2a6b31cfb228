-- Saved audiences: named, persisted recipient lists, and their contacts.
CREATE TABLE audiences (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(trim(name)) > 0),
    source      TEXT CHECK (source IS NULL OR json_valid(source)),  -- linked file + column mapping
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

-- One contact of an audience: a normalised phone number and the columns it came with.
CREATE TABLE audience_contacts (
    audience_id INTEGER NOT NULL REFERENCES audiences (id) ON DELETE CASCADE,
    phone       TEXT NOT NULL,      -- E.164
    fields      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(fields)),
    position    INTEGER NOT NULL,   -- order in the audience
    PRIMARY KEY (audience_id, phone)
) STRICT, WITHOUT ROWID;
