DROP TABLE task_token_keys;
