-- The task-token signing keys shared by every broker replica on this database (ISSUE 4: any replica
-- verifies and introspects what another signed). One row: the key set, sealed with AES-256-GCM under
-- a key-encryption key that only the brokers hold (never stored here), and a revision that makes
-- every change a compare-and-set, so two replicas rotating at once cannot lose a key.
CREATE TABLE task_token_keys (
  id smallint PRIMARY KEY CHECK (id = 1),
  revision bigint NOT NULL CHECK (revision > 0),
  sealed text NOT NULL,
  updated_at timestamptz NOT NULL
);
