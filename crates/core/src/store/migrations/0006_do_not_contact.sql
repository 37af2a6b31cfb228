-- Numbers that must never receive a blast (opt-outs, requests, complaints).
CREATE TABLE do_not_contact (
    phone    TEXT PRIMARY KEY NOT NULL,  -- E.164
    reason   TEXT NOT NULL,              -- 'manual', 'import', 'opt_out_reply', ...
    note     TEXT,
    added_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
