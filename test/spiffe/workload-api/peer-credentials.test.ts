import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createSoPeerCredResolver,
  PERL_PEERCRED_HELPER,
  PYTHON_PEERCRED_HELPER,
  type PeerCredentials,
  type PeerCredentialsResolver,
} from '../../../spiffe/workload-api/peer-credentials.js';
import { myGid, myUid } from './harness.js';

const onLinux = process.platform === 'linux';

/** Whether `command` can be started at all (ENOENT means it is not installed). */
function installed(command: string): boolean {
  return spawnSync(command, ['--version'], { stdio: 'ignore' }).error === undefined;
}

/** A Unix socket server that resolves each accepted connection's peer with `resolver`. */
async function listenResolving(
  path: string,
  resolver: PeerCredentialsResolver,
): Promise<{ server: Server; next: () => Promise<PeerCredentials | undefined> }> {
  const results: Promise<PeerCredentials | undefined>[] = [];
  const waiting: ((p: Promise<PeerCredentials | undefined>) => void)[] = [];
  const server = createServer((socket: Socket) => {
    const result = resolver.resolve(socket);
    void result.finally(() => socket.end());
    const w = waiting.shift();
    if (w) w(result);
    else results.push(result);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    server,
    next: () => results.shift() ?? new Promise((resolve) => waiting.push(resolve)),
  };
}

function connectOnce(path: string): void {
  const client = connect(path);
  client.on('data', () => undefined);
  client.on('error', () => undefined);
}

describe('SO_PEERCRED caller attestation', { skip: !onLinux && 'SO_PEERCRED is Linux only' }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taskpass-peercred-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const helper of [PERL_PEERCRED_HELPER, PYTHON_PEERCRED_HELPER]) {
    const skip = !installed(helper.command) && `${helper.command} is not installed`;
    it(`reads this process's pid, uid and gid with the ${helper.command} helper`, { skip }, async () => {
      const path = join(dir, `${helper.command}.sock`);
      const { server, next } = await listenResolving(path, createSoPeerCredResolver({ helpers: [helper] }));
      try {
        connectOnce(path);
        // Installed, so an unresolved peer is this helper failing, never a reason to skip.
        const creds = await next();
        assert.deepEqual(creds, { pid: process.pid, uid: myUid(), gid: myGid() });
      } finally {
        server.close();
      }
    });
  }

  it('reports the connecting process, not the server: a child connects and its pid comes back', async () => {
    const path = join(dir, 'child.sock');
    const { server, next } = await listenResolving(path, createSoPeerCredResolver());
    try {
      const child = spawn(process.execPath, [
        '-e',
        `const s=require('net').connect(${JSON.stringify(path)});s.on('close',()=>process.exit(0));`,
      ]);
      const creds = await next();
      assert.equal(creds?.pid, child.pid);
      assert.equal(creds?.uid, myUid());
      await new Promise((r) => child.on('exit', r));
    } finally {
      server.close();
    }
  });

  it('falls through to the next helper when one is missing', async () => {
    const path = join(dir, 'fallback.sock');
    const helpers = [
      { command: 'taskpass-no-such-helper', args: [] },
      PERL_PEERCRED_HELPER,
      PYTHON_PEERCRED_HELPER,
    ];
    const { server, next } = await listenResolving(path, createSoPeerCredResolver({ helpers }));
    try {
      connectOnce(path);
      assert.equal((await next())?.pid, process.pid);
    } finally {
      server.close();
    }
  });

  it('yields undefined when no helper exists (the caller is then unattested)', async () => {
    const path = join(dir, 'none.sock');
    const resolver = createSoPeerCredResolver({
      helpers: [{ command: 'taskpass-no-such-helper', args: [] }],
    });
    const { server, next } = await listenResolving(path, resolver);
    try {
      connectOnce(path);
      assert.equal(await next(), undefined);
    } finally {
      server.close();
    }
  });

  it('yields undefined when the helper prints something else', async () => {
    const path = join(dir, 'liar.sock');
    const resolver = createSoPeerCredResolver({
      helpers: [{ command: process.execPath, args: ['-e', 'console.log("0 0")'] }],
    });
    const { server, next } = await listenResolving(path, resolver);
    try {
      connectOnce(path);
      assert.equal(await next(), undefined);
    } finally {
      server.close();
    }
  });
});

describe('SO_PEERCRED on other platforms', () => {
  it('yields undefined without spawning anything', async () => {
    const resolver = createSoPeerCredResolver({
      platform: 'darwin',
      helpers: [{ command: 'taskpass-must-not-run', args: [] }],
    });
    assert.equal(await resolver.resolve({} as Socket), undefined);
  });
});
