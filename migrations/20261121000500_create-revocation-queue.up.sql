-- The durable revocation queue (DESIGN.md invariant 3): one row per credential whose backend
-- revocation is pending or has run out of retries. Workers claim due rows with
-- FOR UPDATE SKIP LOCKED, so replicas share the work without doing it twice.
CREATE TABLE revocation_queue (
  credential_id uuid PRIMARY KEY REFERENCES credentials (id),
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL,
  last_error text,
  enqueued_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE INDEX revocation_queue_due_idx ON revocation_queue (next_attempt_at) WHERE state = 'pending';
