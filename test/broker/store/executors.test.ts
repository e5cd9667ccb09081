import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { createPgExecutor } from '../../../broker/store/pg-executor.js';
import { createPgliteExecutor } from '../../../broker/store/pglite-executor.js';
import { translateStoreError } from '../../../broker/store/sql-errors.js';
import { createSqlIssuanceStore } from '../../../broker/store/sql-issuance-store.js';
import { newIssuance, newTask } from './support/fixtures.js';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('sql executors', () => {
  it('reports an unreachable postgres as BROKER_STORE_UNAVAILABLE, and the store fails closed', async () => {
    const db = createPgExecutor({
      url: `postgres://x@127.0.0.1:${await closedPort()}/db`,
      connectTimeoutMs: 1000,
    });
    try {
      await assert.rejects(db.query('SELECT 1'), { code: 'BROKER_STORE_UNAVAILABLE' });
      await assert.rejects(
        db.transaction(async () => 1),
        { code: 'BROKER_STORE_UNAVAILABLE' },
      );
      const store = createSqlIssuanceStore(db);
      const task = newTask();
      await assert.rejects(store.createTask(task), { code: 'BROKER_STORE_UNAVAILABLE' });
      await assert.rejects(store.recordIssuance(newIssuance(task.id)), { code: 'BROKER_STORE_UNAVAILABLE' });
    } finally {
      await db.close();
    }
  });

  it('rejects a schema name that is not a plain identifier', () => {
    assert.throws(() => createPgExecutor({ url: 'postgres://x@127.0.0.1/db', schema: 'a; drop' }), {
      code: 'BROKER_INPUT_INVALID',
    });
  });

  it('reports a closed PGlite as BROKER_STORE_UNAVAILABLE', async () => {
    const db = await createPgliteExecutor();
    await db.close();
    await assert.rejects(db.query('SELECT 1'), { code: 'BROKER_STORE_UNAVAILABLE' });
    await assert.rejects(
      db.transaction(async () => 1),
      { code: 'BROKER_STORE_UNAVAILABLE' },
    );
  });

  it('rolls a PGlite transaction back when the callback throws', async () => {
    const db = await createPgliteExecutor();
    try {
      await db.exec('CREATE TABLE t (a int)');
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO t VALUES ($1)', [1]);
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.deepEqual((await db.query('SELECT count(*)::int AS n FROM t')).rows, [{ n: 0 }]);
    } finally {
      await db.close();
    }
  });

  const translations: { name: string; err: unknown; code: string }[] = [
    {
      name: 'a refused connection',
      err: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
      code: 'BROKER_STORE_UNAVAILABLE',
    },
    {
      name: 'a server shutdown',
      err: Object.assign(new Error('x'), { code: '57P01' }),
      code: 'BROKER_STORE_UNAVAILABLE',
    },
    {
      name: 'a connection exception',
      err: Object.assign(new Error('x'), { code: '08006' }),
      code: 'BROKER_STORE_UNAVAILABLE',
    },
    {
      name: 'a dropped connection',
      err: new Error('Connection terminated unexpectedly'),
      code: 'BROKER_STORE_UNAVAILABLE',
    },
    {
      name: 'a unique violation',
      err: Object.assign(new Error('x'), { code: '23505' }),
      code: 'BROKER_STORE_CONFLICT',
    },
    {
      name: 'the append-only guard',
      err: Object.assign(new Error('x'), { code: 'TP001' }),
      code: 'BROKER_LEDGER_APPEND_ONLY',
    },
    {
      name: 'a syntax error',
      err: Object.assign(new Error('x'), { code: '42601' }),
      code: 'BROKER_STORE_QUERY_FAILED',
    },
    { name: 'a plain error', err: new Error('x'), code: 'BROKER_STORE_QUERY_FAILED' },
  ];
  for (const t of translations) {
    it(`translates ${t.name} into ${t.code}`, () => {
      const e = translateStoreError(t.err);
      assert.equal(e.code, t.code);
      assert.equal(e.cause, t.err);
    });
  }
});
