-- A blast: one message template sent from one account to a list of recipients.
CREATE TABLE blasts (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id),
    name          TEXT NOT NULL,
    template      TEXT NOT NULL,
    options       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(options)),  -- missing-value policy, media, pacing
    state         TEXT NOT NULL CHECK (state IN ('draft', 'queued', 'running', 'paused', 'cancelled', 'completed')),
    pause_reason  TEXT,
    simulated     INTEGER NOT NULL DEFAULT 0 CHECK (simulated IN (0, 1)),
    created_at    INTEGER NOT NULL,
    started_at    INTEGER,
    completed_at  INTEGER           -- set exactly once, when every delivery is final
) STRICT;
CREATE INDEX blasts_by_account ON blasts (account_id, state);

-- One recipient of a blast. Only the engine changes `state`.
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    blast_id        INTEGER NOT NULL REFERENCES blasts (id) ON DELETE CASCADE,
    phone           TEXT NOT NULL,  -- E.164
    fields          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(fields)),
    source          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(source)),
    state           TEXT NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'sending', 'sent', 'retry_wait', 'failed', 'skipped', 'unknown')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    rendered_text   TEXT,
    error_code      TEXT,
    error_detail    TEXT,
    message_id      TEXT,
    receipt         TEXT CHECK (receipt IS NULL OR receipt IN ('server', 'delivered', 'read')),
    sent_at         INTEGER,
    delivered_at    INTEGER,
    read_at         INTEGER,
    updated_at      INTEGER NOT NULL,
    UNIQUE (blast_id, phone)        -- never two deliveries to one number in a blast
) STRICT;
CREATE INDEX deliveries_by_state ON deliveries (blast_id, state);
CREATE INDEX deliveries_by_message ON deliveries (message_id) WHERE message_id IS NOT NULL;
