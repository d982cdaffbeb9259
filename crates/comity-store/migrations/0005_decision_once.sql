-- A decision is stored once, in its ledger entry. Its `decisions` row keeps what finds it
-- (request id, ledger index) and what the entry must agree with (the time it was recorded);
-- reading a decision, checking a permit and `audit verify` read it from the entry.

ALTER TABLE decisions DROP COLUMN body;
