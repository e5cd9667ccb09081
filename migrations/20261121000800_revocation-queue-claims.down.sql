DROP INDEX revocation_queue_due_idx;
CREATE INDEX revocation_queue_due_idx ON revocation_queue (next_attempt_at) WHERE state = 'pending';
ALTER TABLE revocation_queue
  DROP CONSTRAINT revocation_queue_error_check,
  DROP CONSTRAINT revocation_queue_done_outcome_check,
  DROP COLUMN outcome,
  DROP COLUMN reason,
  DROP COLUMN revocation_id,
  DROP COLUMN claim_id;
