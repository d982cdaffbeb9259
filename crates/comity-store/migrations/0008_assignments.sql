-- Which counsel represents which person, as an authority assigned it, never counsel's own
-- word: self-service subscriptions are gone (none of them was vouched for). Every assignment
-- is kept, and its end (by whom, when) is written on it, never deleted.

DROP TABLE subscriptions;

CREATE TABLE assignments (
    counsel        TEXT NOT NULL,         -- the counsel's name, as its token names it
    subject_id     TEXT NOT NULL,
    assigned_by    TEXT NOT NULL,         -- who assigned it: a token's holder and role, or the command line
    assigned_at    TEXT NOT NULL,
    ended_by       TEXT NOT NULL DEFAULT '',
    ended_at       TEXT NOT NULL DEFAULT ''   -- '' while it lasts
);
CREATE UNIQUE INDEX assignments_active ON assignments (counsel, subject_id) WHERE ended_at = '';
CREATE INDEX assignments_subject ON assignments (subject_id) WHERE ended_at = '';
