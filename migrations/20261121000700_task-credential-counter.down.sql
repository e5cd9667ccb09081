ALTER TABLE tasks DROP COLUMN credentials_issued;
