-- Dispatch: which claim holds each outbox row, and for each `dispatch-attempt` and
-- `dispatch-result` ledger entry the outbox row it is about, so that `verify` finds that row
-- by one join.

ALTER TABLE outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';        -- <dispatcher>#<nonce>
ALTER TABLE ledger_entries ADD COLUMN delivery TEXT NOT NULL DEFAULT '';  -- outbox.id; '' for other kinds
