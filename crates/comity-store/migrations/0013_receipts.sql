-- The receipt a notice to counsel carries (the decision's ledger entry, its inclusion proof
-- and a signed checkpoint), made once, when the notice is first ready to send, so that every
-- attempt sends the same bytes.

CREATE TABLE receipts (
    delivery_id TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
