-- Counsel's console lists every disclosure and notice about the people assigned to it: the
-- outbox found by the person it is about.

CREATE INDEX outbox_subject ON outbox (subject_id);
