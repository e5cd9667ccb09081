-- Append-only guards (EXAMPLES.md "migrations/"): tasks, credentials and ledger events are never
-- deleted or truncated, and a ledger event's content never changes. The only update a ledger row
-- accepts is its one-time sealing (chain_pos, prev_hash, hash from NULL to set). The guards raise
-- SQLSTATE TP001, which the store reports as BROKER_LEDGER_APPEND_ONLY. Someone with DDL rights can
-- still disable them; the hash chain is what detects that.
CREATE FUNCTION taskpass_forbid_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'TP001', MESSAGE = TG_TABLE_NAME || ' is append-only';
END
$$;

CREATE FUNCTION taskpass_ledger_seal_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.hash IS NOT NULL
     OR (to_jsonb(NEW) - 'chain_pos' - 'prev_hash' - 'hash')
        IS DISTINCT FROM (to_jsonb(OLD) - 'chain_pos' - 'prev_hash' - 'hash') THEN
    RAISE EXCEPTION USING ERRCODE = 'TP001', MESSAGE = 'ledger_events is append-only';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER ledger_events_seal_only BEFORE UPDATE ON ledger_events
  FOR EACH ROW EXECUTE FUNCTION taskpass_ledger_seal_only();
CREATE TRIGGER ledger_events_no_delete BEFORE DELETE ON ledger_events
  FOR EACH ROW EXECUTE FUNCTION taskpass_forbid_delete();
CREATE TRIGGER ledger_events_no_truncate BEFORE TRUNCATE ON ledger_events
  FOR EACH STATEMENT EXECUTE FUNCTION taskpass_forbid_delete();
CREATE TRIGGER tasks_no_delete BEFORE DELETE ON tasks
  FOR EACH ROW EXECUTE FUNCTION taskpass_forbid_delete();
CREATE TRIGGER tasks_no_truncate BEFORE TRUNCATE ON tasks
  FOR EACH STATEMENT EXECUTE FUNCTION taskpass_forbid_delete();
CREATE TRIGGER credentials_no_delete BEFORE DELETE ON credentials
  FOR EACH ROW EXECUTE FUNCTION taskpass_forbid_delete();
CREATE TRIGGER credentials_no_truncate BEFORE TRUNCATE ON credentials
  FOR EACH STATEMENT EXECUTE FUNCTION taskpass_forbid_delete();
