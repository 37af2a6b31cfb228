-- The blast a failed or unknown delivery was sent again in: each delivery is
-- sent again at most once, however often "Send again" is pressed.
ALTER TABLE deliveries ADD COLUMN resent_in INTEGER;
