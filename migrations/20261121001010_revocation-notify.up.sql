-- Revocations reach every broker replica at once (ISSUE 4, "Everywhere, fast"; DESIGN.md
-- "Scale-out"): inserting a revocation-relevant ledger event queues pg_notify('taskpass_revocations',
-- seq). NOTIFY is transactional: listeners on every connection hear it only when (and if) the
-- inserting transaction commits, so a replica never learns of a revocation that did not happen, and
-- every writer path (task end, sweeper, revocation engine, quarantine) is covered by this one trigger.
-- The WHEN clause keeps it off every other event: issuance (credential.issued) never notifies.
--
-- The trigger also makes the feed's order safe to resume from. Sequence values are handed out at
-- insert time but become visible at commit, so without care an event with seq 10 could commit after
-- one with seq 11, and a resource server resuming from 11 would never see 10. Before the event gets
-- its seq, the inserting transaction therefore (1) takes a shared transaction-scoped advisory lock,
-- the feed's "in-flight" mark (namespace "tprf", second key the schema as the other locks use), and
-- (2) makes sure it has a transaction id. The feed reader (broker/store/revocation-events.ts) can
-- then tell, from the in-progress transaction ids of its snapshot and these marks, whether an earlier
-- seq may still commit, and holds later events back until it cannot. Shared locks never conflict
-- with each other, so writers never wait on one another here.
CREATE FUNCTION taskpass_revocation_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(1953526374, hashtext(current_schema()));
  PERFORM pg_current_xact_id();
  -- The seq taken by the column default was drawn before the mark; draw again after it (the first
  -- value becomes a gap, as a rolled-back insert leaves one).
  NEW.seq := nextval(pg_get_serial_sequence(quote_ident(TG_TABLE_SCHEMA) || '.ledger_events', 'seq'));
  PERFORM pg_notify('taskpass_revocations', NEW.seq::text);
  RETURN NEW;
END
$$;

CREATE TRIGGER ledger_events_revocation_notify BEFORE INSERT ON ledger_events
  FOR EACH ROW
  WHEN (NEW.type IN ('credential.revoked', 'credential.revoke_failed', 'task.completed', 'task.failed',
                     'task.expired', 'task.revoked', 'workload.quarantined'))
  EXECUTE FUNCTION taskpass_revocation_event();
