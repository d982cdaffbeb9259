-- API tokens: a public id to name one by (the first 16 hex digits of its SHA-256), an expiry,
-- and revocation. A token created before this had no expiry; it keeps none ('').

ALTER TABLE api_tokens ADD COLUMN id TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT NOT NULL DEFAULT '';   -- RFC 3339; '' = none
ALTER TABLE api_tokens ADD COLUMN revoked_at TEXT NOT NULL DEFAULT '';   -- RFC 3339; '' = not revoked
ALTER TABLE api_tokens ADD COLUMN revoked_by TEXT NOT NULL DEFAULT '';
UPDATE api_tokens SET id = substr(sha256, 1, 16) WHERE id = '';
CREATE UNIQUE INDEX api_tokens_id ON api_tokens (id);
