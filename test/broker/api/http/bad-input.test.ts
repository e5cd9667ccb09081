import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InjectOptions } from 'fastify';
import { bearer, harness, TOKENS } from './fakes.js';

interface Case {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly url: string;
  /** An object is sent as JSON; a string is sent verbatim with `contentType`. */
  readonly payload?: unknown;
  readonly contentType?: string;
  readonly token?: string;
  readonly status: number;
  readonly code: string;
}

const INVALID = { status: 400, code: 'BROKER_INPUT_INVALID' };
const START = { intent: { name: 'summarise' }, manifest: [{ provider: 'crm-api', scopes: ['crm.read'] }] };
const ISSUE = { provider: 'crm-api', scopes: ['crm.read'] };
const long = (n: number) => 'a'.repeat(n);

function postCases(url: string, valid: Record<string, unknown>, extra: readonly Case[]): Case[] {
  const post = { method: 'POST' as const, url };
  return [
    { ...post, name: 'an unknown top-level field', payload: { ...valid, admin: true }, ...INVALID },
    { ...post, name: 'a missing body', ...INVALID },
    { ...post, name: 'an empty JSON body', payload: '', contentType: 'application/json', ...INVALID },
    { ...post, name: 'malformed JSON', payload: '{"intent": ', contentType: 'application/json', ...INVALID },
    { ...post, name: 'a JSON array body', payload: [valid], ...INVALID },
    {
      ...post,
      name: 'a text/plain body',
      payload: 'hello',
      contentType: 'text/plain',
      status: 415,
      code: 'BROKER_HTTP_UNSUPPORTED_MEDIA_TYPE',
    },
    {
      ...post,
      name: 'a form body',
      payload: 'a=b',
      contentType: 'application/x-www-form-urlencoded',
      status: 415,
      code: 'BROKER_HTTP_UNSUPPORTED_MEDIA_TYPE',
    },
    {
      ...post,
      name: 'a body over the limit',
      payload: { ...valid, pad: long(70 * 1024) },
      status: 413,
      code: 'BROKER_HTTP_BODY_TOO_LARGE',
    },
    ...extra.map((c) => ({ ...post, ...c })),
  ];
}

const CASES: Case[] = [
  ...postCases('/v1/tasks', START, [
    { name: 'no intent', payload: { manifest: [] }, ...INVALID } as Case,
    {
      name: 'an unknown intent field',
      payload: { ...START, intent: { name: 'x', why: 'y' } },
      ...INVALID,
    } as Case,
    {
      name: 'an intent name of the wrong type',
      payload: { ...START, intent: { name: 42 } },
      ...INVALID,
    } as Case,
    {
      name: 'a numeric string TTL (no coercion)',
      payload: { ...START, ttl_seconds: '60' },
      ...INVALID,
    } as Case,
    { name: 'a fractional TTL', payload: { ...START, ttl_seconds: 1.5 }, ...INVALID } as Case,
    { name: 'a zero TTL', payload: { ...START, ttl_seconds: 0 }, ...INVALID } as Case,
    {
      name: 'an oversized intent text',
      payload: { ...START, intent: { name: 'x', text: long(1025) } },
      ...INVALID,
    } as Case,
    {
      name: 'an oversized manifest',
      payload: {
        ...START,
        manifest: Array.from({ length: 33 }, (_, i) => ({ provider: `p${i}`, scopes: [] })),
      },
      ...INVALID,
    } as Case,
    {
      name: 'a scope with a space',
      payload: { ...START, manifest: [{ provider: 'p', scopes: ['a b'] }] },
      ...INVALID,
    } as Case,
    {
      name: 'duplicate scopes',
      payload: { ...START, manifest: [{ provider: 'p', scopes: ['a', 'a'] }] },
      ...INVALID,
    } as Case,
    {
      name: 'a provider with a slash',
      payload: { ...START, manifest: [{ provider: 'a/b', scopes: [] }] },
      ...INVALID,
    } as Case,
  ]),
  ...postCases('/v1/tasks/task-1/credentials', ISSUE, [
    { name: 'scopes as a string', payload: { provider: 'crm-api', scopes: 'crm.read' }, ...INVALID } as Case,
    {
      name: 'too many scopes',
      payload: { provider: 'crm-api', scopes: Array.from({ length: 65 }, (_, i) => `s${i}`) },
      ...INVALID,
    } as Case,
    { name: 'an oversized scope', payload: { provider: 'crm-api', scopes: [long(257)] }, ...INVALID } as Case,
    { name: 'a TTL over the maximum', payload: { ...ISSUE, ttl_seconds: 10 ** 9 }, ...INVALID } as Case,
    { name: 'no provider', payload: { scopes: [] }, ...INVALID } as Case,
  ]).filter((c) => c.name !== 'a missing body' || c.url.endsWith('credentials')),
  {
    name: 'an unknown field',
    method: 'POST',
    url: '/v1/tasks/task-1/complete',
    payload: { force: true },
    ...INVALID,
  },
  {
    name: 'a text/plain body',
    method: 'POST',
    url: '/v1/tasks/task-1/complete',
    payload: 'x',
    contentType: 'text/plain',
    status: 415,
    code: 'BROKER_HTTP_UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'a reason of the wrong type',
    method: 'POST',
    url: '/v1/tasks/task-1/fail',
    payload: { reason: ['x'] },
    ...INVALID,
  },
  {
    name: 'an oversized reason',
    method: 'POST',
    url: '/v1/tasks/task-1/fail',
    payload: { reason: long(1025) },
    ...INVALID,
  },
  {
    name: 'malformed JSON',
    method: 'POST',
    url: '/v1/tasks/task-1/fail',
    payload: '{',
    contentType: 'application/json',
    ...INVALID,
  },
  { name: 'an oversized task id', method: 'GET', url: `/v1/tasks/${long(129)}`, ...INVALID },
  { name: 'a task id over the router limit', method: 'GET', url: `/v1/tasks/${long(300)}`, ...INVALID },
  { name: 'a task id with odd characters', method: 'GET', url: '/v1/tasks/a%20b', ...INVALID },
  {
    name: 'an unknown query parameter',
    method: 'GET',
    url: '/v1/tasks?admin=1',
    token: TOKENS.operator,
    ...INVALID,
  },
  {
    name: 'a non-numeric limit',
    method: 'GET',
    url: '/v1/tasks?limit=ten',
    token: TOKENS.operator,
    ...INVALID,
  },
  { name: 'a zero limit', method: 'GET', url: '/v1/tasks?limit=0', token: TOKENS.operator, ...INVALID },
  {
    name: 'a repeated limit',
    method: 'GET',
    url: '/v1/tasks?limit=1&limit=2',
    token: TOKENS.operator,
    ...INVALID,
  },
  {
    name: 'an unknown status',
    method: 'GET',
    url: '/v1/tasks?status=zombie',
    token: TOKENS.operator,
    ...INVALID,
  },
  {
    name: 'an oversized cursor',
    method: 'GET',
    url: `/v1/tasks?cursor=${long(513)}`,
    token: TOKENS.operator,
    ...INVALID,
  },
  {
    name: 'an unknown event type',
    method: 'GET',
    url: '/v1/audit/events?type=task.exploded',
    token: TOKENS.operator,
    ...INVALID,
  },
  {
    name: 'a malformed time',
    method: 'GET',
    url: '/v1/audit/events?from=yesterday',
    token: TOKENS.operator,
    ...INVALID,
  },
  {
    name: 'an unknown format',
    method: 'GET',
    url: '/v1/audit/events?format=xml',
    token: TOKENS.operator,
    ...INVALID,
  },
  {
    name: 'an unknown filter',
    method: 'GET',
    url: '/v1/audit/events?secret=1',
    token: TOKENS.operator,
    ...INVALID,
  },
];

function request(c: Case): InjectOptions {
  const headers: Record<string, string> = bearer(c.token ?? TOKENS.workload);
  if (c.payload === undefined) return { method: c.method, url: c.url, headers };
  if (typeof c.payload === 'string') {
    return {
      method: c.method,
      url: c.url,
      headers: { ...headers, 'content-type': c.contentType ?? 'application/json' },
      payload: c.payload,
    };
  }
  return { method: c.method, url: c.url, headers, payload: c.payload as object };
}

describe('bad input is refused with a coded error before any port is called', () => {
  for (const c of CASES) {
    it(`${c.method} ${c.url.slice(0, 40)}: refuses ${c.name} with ${c.status} ${c.code}`, async () => {
      const { app, fake } = harness();
      fake.seedTask();
      const tasksBefore = JSON.stringify([...fake.tasks.values()]);
      const res = await app.inject(request(c));
      assert.equal(res.statusCode, c.status, res.body);
      assert.equal(res.json().error.code, c.code);
      assert.equal(typeof res.json().error.message, 'string');
      assert.equal(JSON.stringify([...fake.tasks.values()]), tasksBefore, 'nothing changed');
      assert.equal(fake.auditQueries.length, 0);
    });
  }
});
