-- The revocation queue's claim protocol and provenance (ISSUE 4, "Never lost"). A worker claims due
-- rows in a short transaction (FOR UPDATE SKIP LOCKED), stamping them with its claim id and pushing
-- next_attempt_at forward by a lease; it calls the backend OUTSIDE any transaction, then completes
-- the row only if it still holds the claim. A worker that dies (kill -9) leaves the row claimed until
-- the lease runs out, after which any replica claims it again: nothing is lost, and no transaction is
-- held open across a backend call (PGlite is one session; a pool must not be pinned by slow backends).
--
-- state: pending (retrying with backoff), failed (retry budget spent: the credential is
-- revoke_failed, still retried on a long interval and on operator request), done (outcome set).
ALTER TABLE revocation_queue
  ADD COLUMN claim_id uuid,
  ADD COLUMN revocation_id uuid,
  ADD COLUMN reason text NOT NULL DEFAULT '' CHECK (length(reason) <= 1024),
  ADD COLUMN outcome text CHECK (outcome IN ('revoked', 'expired')),
  ADD CONSTRAINT revocation_queue_done_outcome_check CHECK ((state = 'done') = (outcome IS NOT NULL)),
  ADD CONSTRAINT revocation_queue_error_check CHECK (last_error IS NULL OR last_error ~ '^[A-Z0-9_]{1,64}$');

-- Workers look for due rows among the open ones (pending and failed), never among done ones.
DROP INDEX revocation_queue_due_idx;
CREATE INDEX revocation_queue_due_idx ON revocation_queue (next_attempt_at) WHERE state <> 'done';
