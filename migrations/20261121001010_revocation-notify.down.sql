DROP TRIGGER ledger_events_revocation_notify ON ledger_events;
DROP FUNCTION taskpass_revocation_event();
