-- Every message an account handed over, for pacing: hourly and daily caps
-- and the delay since the last message hold across restarts. Written by a
-- trigger in the same statement that records a delivery's intent to send,
-- so no send can be missing from it.
CREATE TABLE sends (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    at          INTEGER NOT NULL
) STRICT;
CREATE INDEX sends_by_account ON sends (account_id, at);

CREATE TRIGGER deliveries_record_send
AFTER UPDATE OF state ON deliveries
WHEN new.state = 'sending' AND old.state <> 'sending'
BEGIN
    INSERT INTO sends (account_id, at)
    SELECT account_id, new.updated_at FROM blasts WHERE id = new.blast_id;
END;

-- Why a blast paused, as a stable code next to the words (pause_reason).
ALTER TABLE blasts ADD COLUMN pause_code TEXT;
