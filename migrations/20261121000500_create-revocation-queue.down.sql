DROP TABLE revocation_queue;
