import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  denyPolicyName,
  isSessionName,
  newSessionName,
  sourceIdentityOf,
  tagValue,
  workloadTagValue,
} from '../../../adapters/aws-sts/names.js';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';

/** STS RoleSessionName / SourceIdentity: `[\w+=,.@-]`, 2–64 characters. */
const STS_NAME = /^[\w+=,.@-]{2,64}$/;
/** STS tag values: `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`, at most 256. */
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;

describe('aws-sts names', () => {
  it('makes session names in the STS charset and length, unique, led by the task', () => {
    const cases = ['7f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f', 'task-contract-1', '!!!', 'é'.repeat(300), 'a'];
    const seen = new Set<string>();
    for (const task of cases) {
      const name = newSessionName(task);
      assert.match(name, STS_NAME, task);
      assert.ok(isSessionName(name));
      assert.ok(!seen.has(name));
      seen.add(name);
    }
    assert.match(newSessionName('7f1c2d3e-4b5a'), /^tp-7f1c2d3e-[0-9a-f]{16}$/);
    assert.match(newSessionName('!!!'), /^tp-task-[0-9a-f]{16}$/);
    assert.equal(
      newSessionName('abc', () => Buffer.alloc(8, 0xab)),
      'tp-abc-abababababababab',
    );
  });

  it('rejects session names STS would reject', () => {
    for (const bad of ['a', 'has space', 'x'.repeat(65), 'tp/1', 'tp:1', ''])
      assert.equal(isSessionName(bad), false, bad);
    for (const good of ['ab', 'tp-1', 'a+b=c,d.e@f-g_h', 'x'.repeat(64)])
      assert.equal(isSessionName(good), true, good);
  });

  const tagCases: [string, string, 'verbatim' | 'hashed'][] = [
    ['a uuid', '7f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f', 'verbatim'],
    ['a spiffe id', 'spiffe://example.org/agents/x', 'verbatim'],
    ['letters from other scripts and spaces', 'задача 1', 'verbatim'],
    ['a quote', 'task"1', 'hashed'],
    ['a comma', 'a,b', 'hashed'],
    ['257 characters', 'x'.repeat(257), 'hashed'],
    ['exactly 256 characters', 'x'.repeat(256), 'verbatim'],
  ];
  for (const [name, text, expected] of tagCases) {
    it(`tag value of ${name} is ${expected} and in the STS charset`, () => {
      const value = tagValue(text);
      assert.match(value, TAG_VALUE);
      if (expected === 'verbatim') assert.equal(value, text);
      else assert.match(value, /^sha256:[0-9a-f]{64}$/);
    });
  }

  it('tags the workload with its exact SPIFFE ID, or its hash past 256 characters', () => {
    const id = SpiffeId.parse('spiffe://example.org/agents/summarizer');
    assert.equal(workloadTagValue(id), 'spiffe://example.org/agents/summarizer');
    const long = SpiffeId.parse(`spiffe://example.org/${'a'.repeat(300)}`);
    assert.match(workloadTagValue(long), /^sha256:[0-9a-f]{64}$/);
  });

  const identities: [string, string | RegExp][] = [
    ['spiffe://example.org/agents/summarizer', 'example.org,agents,summarizer'],
    ['spiffe://td/a_b/c-d/e.f', 'td,a_b,c-d,e.f'],
    ['spiffe://example.org', 'example.org'],
    ['spiffe://a', /^sha256=[A-Za-z0-9_-]{43}$/],
    [`spiffe://example.org/${'x'.repeat(60)}`, /^sha256=[A-Za-z0-9_-]{43}$/],
  ];
  for (const [id, expected] of identities) {
    it(`source identity of ${id.slice(0, 40)} fits STS`, () => {
      const value = sourceIdentityOf(SpiffeId.parse(id));
      assert.match(value, STS_NAME);
      assert.ok(!value.toLowerCase().startsWith('aws:'));
      if (typeof expected === 'string') assert.equal(value, expected);
      else assert.match(value, expected);
    });
  }

  it('names deny policies in the IAM charset, by task id or its hash', () => {
    assert.equal(denyPolicyName('7f1c2d3e-4b5a'), 'taskpass-revoke-7f1c2d3e-4b5a');
    for (const task of ['a/b', 'x'.repeat(113), 'é']) {
      assert.match(denyPolicyName(task), /^taskpass-revoke-[0-9a-f]{40}$/);
    }
    assert.notEqual(denyPolicyName('a/b'), denyPolicyName('a/c'));
    assert.ok(denyPolicyName('x'.repeat(112)).length <= 128);
  });
});
