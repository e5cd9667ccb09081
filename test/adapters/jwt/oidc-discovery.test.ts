import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildOidcDiscovery } from '../../../adapters/jwt/oidc-discovery.js';

describe('buildOidcDiscovery', () => {
  it('builds the document from the base url', () => {
    assert.deepEqual(buildOidcDiscovery('https://broker.example.org/'), {
      issuer: 'https://broker.example.org',
      jwks_uri: 'https://broker.example.org/.well-known/jwks.json',
      token_endpoint: 'https://broker.example.org/oauth2/token',
      introspection_endpoint: 'https://broker.example.org/oauth2/introspect',
      grant_types_supported: ['urn:ietf:params:oauth:grant-type:token-exchange'],
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256', 'RS256', 'PS256'],
      token_endpoint_auth_methods_supported: ['none'],
      claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'scope', 'task_id', 'client_id'],
    });
  });

  it('keeps a path prefix and lists only the configured algorithms', () => {
    const doc = buildOidcDiscovery('http://127.0.0.1:8443/taskpass', { signingAlgorithms: ['ES256'] });
    assert.equal(doc.issuer, 'http://127.0.0.1:8443/taskpass');
    assert.equal(doc.jwks_uri, 'http://127.0.0.1:8443/taskpass/.well-known/jwks.json');
    assert.deepEqual(doc.id_token_signing_alg_values_supported, ['ES256']);
  });

  for (const bad of ['broker', 'ftp://x', 'https://x/?a=1', 'https://x/#f']) {
    it(`rejects the base url ${bad} with a code`, () => {
      assert.throws(() => buildOidcDiscovery(bad), { code: 'BROKER_INPUT_INVALID' });
    });
  }
});
