-- Requests as received, their decisions, and the Merkle ledger that proves both.
-- Portable SQL: the same schema serves SQLite and PostgreSQL.

CREATE TABLE requests (
    id            TEXT PRIMARY KEY,
    sha256        TEXT NOT NULL,          -- SHA-256 of the request as received, hex
    body          TEXT NOT NULL,          -- the request as received
    received_at   TEXT NOT NULL
);

CREATE TABLE decisions (
    request_id    TEXT PRIMARY KEY REFERENCES requests (id),
    body          TEXT NOT NULL,          -- the decision, RFC 8785 canonical JSON
    recorded_at   TEXT NOT NULL,
    ledger_index  BIGINT NOT NULL UNIQUE
);

CREATE TABLE ledger_entries (
    idx           BIGINT PRIMARY KEY,     -- leaf index, from 0, without gaps
    kind          TEXT NOT NULL,          -- decision | dispatch-attempt | dispatch-result | pack-loaded
    body          TEXT NOT NULL           -- the entry's canonical bytes (RFC 8785 JSON);
                                          -- its leaf hash is node (0, idx)
);

-- Hashes of complete, aligned subtrees: node (level, index) covers leaves
-- [index * 2^level, (index + 1) * 2^level), and is stored under id = level * 2^48 + index,
-- one integer key so that a proof's nodes are fetched by primary key. Level 0 holds the
-- leaf hashes.
CREATE TABLE ledger_nodes (
    id            BIGINT PRIMARY KEY,
    hash          TEXT NOT NULL
);

-- Signed tree heads (C2SP tlog-checkpoint in a signed note).
CREATE TABLE checkpoints (
    size          BIGINT PRIMARY KEY,
    root          TEXT NOT NULL,
    note          TEXT NOT NULL
);
