-- Quarantined workloads (ISSUE 4): a quarantined workload gets no new task and no credential until an
-- operator lifts the quarantine. Rows are history: lifting sets lifted_at, lifted_by and lift_reason
-- once; at most one quarantine per workload is in force (lifted_at IS NULL).
CREATE TABLE quarantines (
  id uuid PRIMARY KEY,
  workload text NOT NULL CHECK (workload LIKE 'spiffe://%'),
  reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1024),
  quarantined_by text NOT NULL,
  since timestamptz NOT NULL,
  lifted_at timestamptz,
  lifted_by text,
  lift_reason text,
  CHECK ((lifted_at IS NULL) = (lifted_by IS NULL) AND (lifted_at IS NULL) = (lift_reason IS NULL))
);

CREATE UNIQUE INDEX quarantines_in_force_idx ON quarantines (workload) WHERE lifted_at IS NULL;

CREATE TRIGGER quarantines_no_delete BEFORE DELETE ON quarantines
  FOR EACH ROW EXECUTE FUNCTION taskpass_forbid_delete();
CREATE TRIGGER quarantines_no_truncate BEFORE TRUNCATE ON quarantines
  FOR EACH STATEMENT EXECUTE FUNCTION taskpass_forbid_delete();
