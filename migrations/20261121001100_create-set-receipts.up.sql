-- Security Event Tokens received (ISSUE 4, anomaly signals; RFC 8935 push delivery): one row per
-- accepted SET, keyed by the SHA-256 of its issuer and jti, so a SET replayed to ANY broker replica is
-- refused. A row is only needed while the SET's iat is inside the acceptance window (expires_at);
-- later the iat check alone refuses it, so expired rows are deleted (this is not the ledger: every
-- accepted SET also has its signal.received event there).
CREATE TABLE set_receipts (
  key text PRIMARY KEY CHECK (key ~ '^[0-9a-f]{64}$'),
  received_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);

CREATE INDEX set_receipts_expiry_idx ON set_receipts (expires_at);
