-- Every message an account handed over, for pacing: hourly and daily caps
-- and the delay since the last message hold across restarts. Written by a
-- trigger in the same statement that records a delivery's intent to send,
-- so no send can be missing from it.
--
-- One b-tree ordered by account and time (a rowid table would need a second
-- one, an index, and a write to each for every message).
CREATE TABLE sends (
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    delivery_id INTEGER NOT NULL,  -- with the attempt, tells apart sends
    attempt     INTEGER NOT NULL,  -- in the same millisecond
    PRIMARY KEY (account_id, at, delivery_id, attempt)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER deliveries_record_send
AFTER UPDATE OF state ON deliveries
WHEN new.state = 'sending' AND old.state <> 'sending'
BEGIN
    -- The same delivery started twice in one millisecond at the same attempt
    -- (possible only after an account error undid an attempt) counts once.
    INSERT OR IGNORE INTO sends (account_id, at, delivery_id, attempt)
    SELECT account_id, new.updated_at, new.id, new.attempts FROM blasts WHERE id = new.blast_id;
END;

-- Why a blast paused, as a stable code next to the words (pause_reason).
ALTER TABLE blasts ADD COLUMN pause_code TEXT;
