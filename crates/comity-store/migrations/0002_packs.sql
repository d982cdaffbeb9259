-- Each pack version the first time a decision used it: its id and the SHA-256 of its files,
-- recorded in the ledger as a `pack-loaded` entry before the decisions that cite it.
CREATE TABLE packs (
    id            TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    recorded_at   TEXT NOT NULL,
    ledger_index  BIGINT NOT NULL UNIQUE,
    PRIMARY KEY (id, sha256)
);
