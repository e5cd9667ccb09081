-- The ledger: append-only events. Rows are inserted unsealed (chain_pos, prev_hash and hash NULL) so
-- that issuance never waits on the chain; the sealer (broker/ledger/hash-chain.ts) later gives each
-- committed event the next chain position and its hash, exactly once.
CREATE TABLE ledger_events (
  seq bigserial PRIMARY KEY,
  -- Millisecond precision, so the value read back into JavaScript is exactly what was hashed.
  occurred_at timestamptz NOT NULL CHECK (date_trunc('milliseconds', occurred_at) = occurred_at),
  type text NOT NULL CHECK (type ~ '^[a-z]+(\.[a-z_]+)+$'),
  workload text,
  task_id uuid,
  credential_id uuid,
  provider text,
  decision text CHECK (decision IN ('allow', 'deny')),
  reason text,
  rule text,
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  chain_pos bigint UNIQUE CHECK (chain_pos > 0),
  prev_hash text CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash text CHECK (hash ~ '^[0-9a-f]{64}$'),
  CHECK ((chain_pos IS NULL) = (hash IS NULL) AND (hash IS NULL) = (prev_hash IS NULL))
);

-- Auditor queries: each filter plus the keyset (seq).
CREATE INDEX ledger_events_workload_idx ON ledger_events (workload, seq);
CREATE INDEX ledger_events_task_idx ON ledger_events (task_id, seq);
CREATE INDEX ledger_events_provider_idx ON ledger_events (provider, seq);
CREATE INDEX ledger_events_type_idx ON ledger_events (type, seq);
CREATE INDEX ledger_events_time_idx ON ledger_events (occurred_at, seq);
-- The sealer: events not yet in the chain.
CREATE INDEX ledger_events_unsealed_idx ON ledger_events (seq) WHERE chain_pos IS NULL;
