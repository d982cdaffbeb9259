-- The signed release of a pack version (its pack.sig, a signed note), when it had one as it
-- was first used; '' when it had none. Recorded in its `pack-loaded` entry too.
ALTER TABLE packs ADD COLUMN signature TEXT NOT NULL DEFAULT '';
