-- A per-task count of credentials ever issued, kept on the task row. Issuance checks the
-- credentials-per-task quota and bumps the count in the same single statement that locks the task,
-- inserts the credential and appends its ledger event, so the quota needs no count(*) over
-- credentials and issuance needs no multi-statement transaction (ISSUE 3, Speed).
ALTER TABLE tasks ADD COLUMN credentials_issued integer NOT NULL DEFAULT 0 CHECK (credentials_issued >= 0);

UPDATE tasks t SET credentials_issued = c.n
FROM (SELECT task_id, count(*)::int AS n FROM credentials GROUP BY task_id) c
WHERE c.task_id = t.id;
