-- Every policy file the broker loaded: which content (SHA-256 of the file), when, from where.
CREATE TABLE policy_versions (
  version bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  loaded_at timestamptz NOT NULL,
  source text NOT NULL
);

CREATE INDEX policy_versions_loaded_idx ON policy_versions (loaded_at);
