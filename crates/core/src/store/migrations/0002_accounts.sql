-- Linked WhatsApp accounts (or simulated ones, for rehearsals).
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL CHECK (length(trim(name)) > 0),
    business_unit TEXT,
    kind          TEXT NOT NULL CHECK (kind IN ('whatsapp', 'simulated')),
    phone         TEXT,             -- E.164, known once linked
    status        TEXT NOT NULL DEFAULT 'unlinked',
    status_detail TEXT,             -- JSON: reason, retry time, ban expiry, ...
    time_zone     TEXT NOT NULL,    -- IANA name; the sending window is in this zone
    pacing        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(pacing)),
    created_at    INTEGER NOT NULL,
    linked_at     INTEGER
) STRICT;
