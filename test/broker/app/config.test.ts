import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigInvalidError, parseConfig } from '../../../broker/config.js';

describe('parseConfig', () => {
  it('applies the development defaults, frozen', () => {
    const config = parseConfig({ env: {}, cwd: '/srv' });
    assert.equal(config.dataDir, '/srv/.taskpass');
    assert.deepEqual(config.database, { kind: 'pglite', dataDir: '/srv/.taskpass/pglite' });
    assert.equal(config.policyFile, '/srv/examples/policy.yaml');
    assert.equal(config.trustDomain.name, 'taskpass.local');
    assert.equal(config.audience, 'taskpass-broker');
    assert.deepEqual(config.http, { host: '127.0.0.1', port: 8443 });
    assert.equal(config.grpc.socketPath, '/srv/.taskpass/broker.sock');
    assert.deepEqual(config.identity, { mode: 'dev-ca' });
    assert.deepEqual(config.providers, {
      'crm-api': { kind: 'jwt', audience: 'crm-api', issuer: 'http://127.0.0.1:8443' },
    });
    assert.ok(
      Object.isFrozen(config) && Object.isFrozen(config.http) && Object.isFrozen(config.providers['crm-api']),
    );
  });

  it('reads the file, with the environment winning', () => {
    const config = parseConfig({
      env: {
        DATABASE_URL: 'postgres://db/taskpass',
        SPIFFE_ENDPOINT_SOCKET: 'unix:///run/spire/agent.sock',
        TASKPASS_HTTP_PORT: '9000',
      },
      cwd: '/srv',
      file: {
        data_dir: '/var/lib/taskpass',
        audience: 'broker.example',
        http: { port: 7000, host: '0.0.0.0' },
        providers: { reports: { kind: 'jwt', audience: 'reports', issuer: 'https://b.example' } },
      },
    });
    assert.deepEqual(config.database, { kind: 'postgres', url: 'postgres://db/taskpass' });
    assert.equal(config.identity.mode, 'workload-api');
    assert.deepEqual(config.http, { host: '0.0.0.0', port: 9000 });
    assert.equal(config.audience, 'broker.example');
    assert.equal(config.dataDir, '/var/lib/taskpass');
    assert.deepEqual(Object.keys(config.providers), ['reports']);
  });

  it('lists every problem with BROKER_CONFIG_INVALID', () => {
    assert.throws(
      () =>
        parseConfig({
          env: {
            TASKPASS_HTTP_PORT: 'eighty',
            TASKPASS_TRUST_DOMAIN: 'Bad Domain',
            SPIFFE_ENDPOINT_SOCKET: 'relative.sock',
          },
          cwd: '/srv',
          file: { colour: 'blue', database_url: 'mysql://x', providers: { p: 'jwt' } },
        }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigInvalidError);
        assert.equal(err.code, 'BROKER_CONFIG_INVALID');
        assert.equal(err.problems.length, 6, err.problems.join('\n'));
        return true;
      },
    );
  });
});
