-- When the blast's numbers were checked against WhatsApp (if it asked for a
-- check): a check is done once, also across restarts.
ALTER TABLE blasts ADD COLUMN numbers_checked_at INTEGER;
