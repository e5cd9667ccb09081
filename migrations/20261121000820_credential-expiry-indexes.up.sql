-- Expiry without per-row timers (ISSUE 4, "Automatic"): the sweep reads only live credentials
-- (active or revoke_failed) whose expiry has passed, through this partial index, so its cost follows
-- what expires, not what exists.
CREATE INDEX credentials_live_expiry_idx ON credentials (expires_at)
  WHERE status IN ('active', 'revoke_failed');
-- Operators list revoke_failed credentials newest first. Partial: issuance never writes to it (new
-- rows are active), so it costs the issuance path nothing.
CREATE INDEX credentials_revoke_failed_idx ON credentials (issued_at DESC, id DESC)
  WHERE status = 'revoke_failed';
