ALTER TABLE credentials DROP CONSTRAINT credentials_confirmed_after_revoked;
ALTER TABLE credentials DROP COLUMN revocation_confirmed_at;
