-- Credentials: one issuance per row. The secret itself is never stored: only the adapter's
-- revocation handle (accessor, lease id, token id) and the SHA-256 of the secret, for introspection.
-- Rows are never deleted; revocation sets status and revoked_at.
CREATE TABLE credentials (
  id uuid PRIMARY KEY,
  task_id uuid NOT NULL REFERENCES tasks (id),
  provider text NOT NULL CHECK (provider <> ''),
  scopes text[] NOT NULL,
  ttl_seconds integer NOT NULL CHECK (ttl_seconds > 0),
  issued_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL CHECK (expires_at > issued_at),
  revocation_handle jsonb NOT NULL,
  secret_hash text NOT NULL UNIQUE CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
  revocability text NOT NULL CHECK (revocability IN ('revocable', 'expires-only')),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked', 'expired', 'revoke_failed')),
  revoked_at timestamptz,
  CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);

-- Ending a task collects its active credentials; the per-task quota counts them all.
CREATE INDEX credentials_task_idx ON credentials (task_id, status);
CREATE INDEX credentials_provider_idx ON credentials (provider, issued_at);
