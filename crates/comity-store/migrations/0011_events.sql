-- Events: what an agency did on a request after it was decided (held the person, released,
-- transferred them, answered the request itself). Each is a ledger entry (kind `event`); this
-- row points at it, so that the order of a request's events can be checked when the next one
-- is recorded, and `audit` finds a row that no longer says what its entry says.

CREATE TABLE events (
    request_id     TEXT NOT NULL REFERENCES requests (id),
    seq            BIGINT NOT NULL,       -- 1, 2, … in the order recorded
    kind           TEXT NOT NULL,         -- held | released | transferred | hold-expired | custody-disavowed | response-sent
    at             TEXT NOT NULL,         -- when it was done, as reported (RFC 3339)
    act            TEXT NOT NULL,         -- for response-sent, the act carried out; '' otherwise
    recorded_by    TEXT NOT NULL,         -- who recorded it (the token's name and role)
    recorded_at    TEXT NOT NULL,
    violations     TEXT NOT NULL,         -- JSON array: what the decision did not allow
    ledger_index   BIGINT NOT NULL,       -- its `event` ledger entry
    PRIMARY KEY (request_id, seq)
);
-- One row per event entry: a second row pointing at an entry would pass for it.
CREATE UNIQUE INDEX events_ledger_index ON events (ledger_index);
