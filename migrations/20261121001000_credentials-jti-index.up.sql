-- Task tokens by jti (ISSUE 4, "Everywhere, fast"): the jwt adapter's verifyRevoked asks the broker's
-- record whether a token id is revoked, and the revocation feed names the jti of a revoked token.
-- The jti lives in the credential's revocation handle ({jti, kid, expiresAt}); other providers'
-- handles have none, so the index is partial and stays out of their way.
CREATE INDEX credentials_jti_idx ON credentials ((revocation_handle ->> 'jti'))
  WHERE revocation_handle ? 'jti';
