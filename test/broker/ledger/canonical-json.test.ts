import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from '../../../broker/ledger/canonical-json.js';

describe('canonicalJson', () => {
  const encodes: { name: string; value: unknown; want: string }[] = [
    { name: 'null', value: null, want: 'null' },
    { name: 'booleans', value: [true, false], want: '[true,false]' },
    { name: 'numbers as JSON writes them', value: [1, -0.5, 1e21, 0], want: '[1,-0.5,1e+21,0]' },
    { name: 'strings with escapes', value: 'a"\n\u2028', want: '"a\\"\\n\u2028"' },
    {
      name: 'sorted keys at every depth',
      value: { b: 1, a: { d: [], c: null } },
      want: '{"a":{"c":null,"d":[]},"b":1}',
    },
    { name: 'keys by UTF-16 code unit', value: { é: 1, z: 2, Z: 3 }, want: '{"Z":3,"z":2,"é":1}' },
    {
      name: 'an object without prototype',
      value: Object.assign(Object.create(null), { x: 1 }),
      want: '{"x":1}',
    },
  ];
  for (const c of encodes) {
    it(`encodes ${c.name}`, () => assert.equal(canonicalJson(c.value), c.want));
  }

  it('gives the same text whatever the insertion order', () => {
    assert.equal(canonicalJson({ a: 1, b: [{ y: 1, x: 2 }] }), canonicalJson({ b: [{ x: 2, y: 1 }], a: 1 }));
  });

  const rejects: { name: string; value: unknown }[] = [
    { name: 'undefined', value: undefined },
    { name: 'undefined inside an object', value: { a: undefined } },
    { name: 'NaN', value: NaN },
    { name: 'Infinity', value: [Infinity] },
    { name: 'a bigint', value: 1n },
    { name: 'a Date (convert it explicitly)', value: new Date(0) },
    { name: 'a Map', value: new Map() },
    { name: 'a function', value: () => 1 },
  ];
  for (const c of rejects) {
    it(`rejects ${c.name}`, () => assert.throws(() => canonicalJson(c.value), TypeError));
  }
});
