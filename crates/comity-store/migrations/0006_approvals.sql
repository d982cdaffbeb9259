-- Approvals: a permit whose limits name an approval (NYC Admin. Code § 23-1202(c): the
-- agency's privacy officer) is carried out only once that approval is recorded. Its
-- deliveries wait in the outbox with status `awaiting-approval`; each approval or refusal is
-- a ledger entry (kind `approval`), and this row points at it so that the dispatcher finds
-- and checks it before sending.

CREATE TABLE approvals (
    request_id     TEXT NOT NULL REFERENCES requests (id),
    act            TEXT NOT NULL,         -- the act approved
    approval       TEXT NOT NULL,         -- whose approval the permit names (privacy-officer)
    delivery       TEXT NOT NULL,         -- the delivery the approval was asked on
    decision       TEXT NOT NULL,         -- approved | refused
    decided_by     TEXT NOT NULL,         -- who recorded it (the token's name and role)
    recorded_at    TEXT NOT NULL,
    ledger_index   BIGINT NOT NULL,       -- its `approval` ledger entry
    PRIMARY KEY (request_id, act, approval)
);
CREATE INDEX outbox_request ON outbox (request_id);
-- The entries about one delivery (its attempts, results, approvals), found by the delivery.
CREATE INDEX ledger_entries_delivery ON ledger_entries (delivery) WHERE delivery <> '';
