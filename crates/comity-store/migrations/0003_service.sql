-- The records service: disclosures and notices waiting to be delivered (written in the same
-- transaction as the decision that permits them), API tokens, and counsel's subscriptions.

CREATE TABLE outbox (
    id             TEXT PRIMARY KEY,      -- <request>/<act>/<recipient>: also the delivery's idempotency key
    request_id     TEXT NOT NULL REFERENCES requests (id),
    act            TEXT NOT NULL,         -- the permitted act this delivery carries out
    kind           TEXT NOT NULL,         -- disclosure | notice
    recipient      TEXT NOT NULL,         -- an agency, `subject`, or `counsel:<name>`
    subject_id     TEXT NOT NULL,
    decision_index BIGINT NOT NULL,       -- the ledger index of the permitting decision
    payload        TEXT NOT NULL,         -- JSON: only the fields the permit names
    status         TEXT NOT NULL,         -- pending | delivered | dead | refused
    attempts       BIGINT NOT NULL,
    next_at        BIGINT NOT NULL,       -- unix milliseconds: not before
    claimed_until  BIGINT NOT NULL,       -- unix milliseconds: a dispatcher holds it until then
    last_error     TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, next_at);

CREATE TABLE api_tokens (
    sha256         TEXT PRIMARY KEY,      -- SHA-256 of the token; the token itself is never stored
    role           TEXT NOT NULL,         -- clerk | supervisor | counsel | auditor | admin
    name           TEXT NOT NULL,         -- who holds it (for counsel: the counsel's name)
    created_at     TEXT NOT NULL
);

CREATE TABLE subscriptions (
    counsel        TEXT NOT NULL,
    subject_id     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (counsel, subject_id)
);
