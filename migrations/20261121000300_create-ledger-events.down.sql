DROP TABLE ledger_events;
