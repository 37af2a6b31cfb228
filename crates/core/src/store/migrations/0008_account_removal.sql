-- A removed account disappears from lists; its blasts and their reports stay.
ALTER TABLE accounts ADD COLUMN removed_at INTEGER;
