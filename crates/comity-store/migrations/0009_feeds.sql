-- Feed health: when comity last heard from each source (requesting agency, and the agency
-- asked), so that a source gone silent past its expected cadence raises an alarm.

CREATE TABLE feed_seen (
    from_agency    TEXT NOT NULL,
    to_agency      TEXT NOT NULL,
    last_at        TEXT NOT NULL,         -- RFC 3339, UTC
    PRIMARY KEY (from_agency, to_agency)
);
