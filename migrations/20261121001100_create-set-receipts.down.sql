DROP TABLE set_receipts;
