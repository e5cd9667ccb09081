-- Tasks: one workload's unit of work (DESIGN.md "Concepts"). A task is never deleted; ending it sets
-- status, ended_at and end_reason once.
CREATE TABLE tasks (
  id uuid PRIMARY KEY,
  workload text NOT NULL CHECK (workload LIKE 'spiffe://%'),
  intent_name text NOT NULL CHECK (intent_name <> ''),
  intent_text text NOT NULL DEFAULT '',
  manifest jsonb NOT NULL,
  deadline timestamptz NOT NULL,
  parent_task_id uuid REFERENCES tasks (id),
  status text NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'completed', 'failed', 'expired', 'revoked')),
  created_at timestamptz NOT NULL,
  ended_at timestamptz,
  end_reason text,
  CHECK ((status = 'active') = (ended_at IS NULL)),
  CHECK (deadline > created_at)
);

-- The sweeper: active tasks by deadline.
CREATE INDEX tasks_active_deadline_idx ON tasks (deadline) WHERE status = 'active';
-- Listing and the active-tasks quota: by workload, newest first, keyset on (created_at, id).
CREATE INDEX tasks_workload_created_idx ON tasks (workload, created_at DESC, id DESC);
CREATE INDEX tasks_created_idx ON tasks (created_at DESC, id DESC);
CREATE INDEX tasks_parent_idx ON tasks (parent_task_id) WHERE parent_task_id IS NOT NULL;
