-- Verified revocation (ISSUE 5): after a backend revoked a credential the broker asks the backend
-- whether it really no longer works (`verifyRevoked`) and records when that was confirmed.
ALTER TABLE credentials ADD COLUMN revocation_confirmed_at timestamptz;
ALTER TABLE credentials ADD CONSTRAINT credentials_confirmed_after_revoked
  CHECK (revocation_confirmed_at IS NULL OR revoked_at IS NOT NULL);
