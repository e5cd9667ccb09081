import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatScopePattern,
  isValidScope,
  parseScopePattern,
  scopesOutside,
} from '../../../broker/policy/scope.js';

describe('scope patterns', () => {
  const patterns: Array<[string, boolean]> = [
    ['crm:read', true],
    ['crm:*', true],
    ['https://api.example/read', true],
    ['*', false],
    ['crm:*:x', false],
    ['a**', false],
    ['has space', false],
    ['quote"', false],
    ['', false],
  ];
  for (const [text, ok] of patterns) {
    it(`${ok ? 'accepts' : 'rejects'} pattern ${JSON.stringify(text)}`, () => {
      const p = parseScopePattern(text);
      assert.equal(p !== undefined, ok);
      if (p) assert.equal(formatScopePattern(p), text);
    });
  }

  it('matches exact scopes exactly and prefixes by string prefix', () => {
    const grant = ['crm:read', 'kv:team/*'].map((t) => parseScopePattern(t)!);
    assert.deepEqual(
      scopesOutside(grant, ['crm:read', 'crm:readx', 'kv:team/a', 'kv:team/', 'kv:other', 'crm:READ']),
      ['crm:readx', 'kv:other', 'crm:READ'],
    );
  });

  it('rejects a concrete scope containing *', () => {
    assert.equal(isValidScope('crm:*'), false);
    assert.equal(isValidScope('crm:read'), true);
  });
});
