DROP TRIGGER credentials_no_truncate ON credentials;
DROP TRIGGER credentials_no_delete ON credentials;
DROP TRIGGER tasks_no_truncate ON tasks;
DROP TRIGGER tasks_no_delete ON tasks;
DROP TRIGGER ledger_events_no_truncate ON ledger_events;
DROP TRIGGER ledger_events_no_delete ON ledger_events;
DROP TRIGGER ledger_events_seal_only ON ledger_events;
DROP FUNCTION taskpass_ledger_seal_only();
DROP FUNCTION taskpass_forbid_delete();
