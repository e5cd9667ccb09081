import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from './fakes.js';

const ROUTES: [string, string][] = [
  ['post', '/v1/tasks'],
  ['get', '/v1/tasks'],
  ['get', '/v1/tasks/{id}'],
  ['post', '/v1/tasks/{id}/complete'],
  ['post', '/v1/tasks/{id}/fail'],
  ['post', '/v1/tasks/{id}/credentials'],
  ['post', '/oauth2/token'],
  ['post', '/oauth2/introspect'],
  ['get', '/.well-known/jwks.json'],
  ['get', '/.well-known/openid-configuration'],
  ['get', '/v1/audit/events'],
  ['get', '/v1/audit/verify'],
  ['get', '/healthz'],
  ['get', '/readyz'],
  ['get', '/metrics'],
];

describe('OpenAPI at /docs', () => {
  it('lists every route, generated from the route schemas', async () => {
    const { app } = harness();
    const res = await app.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(res.statusCode, 200);
    const doc = res.json();
    assert.equal(doc.openapi, '3.1.0');
    const listed = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`))
      .sort();
    assert.deepEqual(listed, ROUTES.map(([m, p]) => `${m} ${p}`).sort());
  });

  it('documents bodies, closed schemas and the two security schemes', async () => {
    const { app } = harness();
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    const start = doc.paths['/v1/tasks'].post;
    const body = start.requestBody.content['application/json'].schema;
    assert.equal(body.additionalProperties, false);
    assert.deepEqual(start.security, [{ bearer: [] }, { mutualTLS: [] }]);
    assert.ok(doc.paths['/oauth2/token'].post.requestBody.content['application/x-www-form-urlencoded']);
    assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['bearer', 'mutualTLS']);
    assert.equal(doc.components.securitySchemes.mutualTLS.type, 'mutualTLS');
  });

  it('serves the UI at /docs', async () => {
    const { app } = harness();
    const res = await app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /text\/html/);
  });

  it('can be turned off', async () => {
    const { app } = harness({ docs: false });
    const res = await app.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(res.statusCode, 404);
  });
});
