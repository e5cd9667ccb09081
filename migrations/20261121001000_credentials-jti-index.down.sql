DROP INDEX credentials_jti_idx;
