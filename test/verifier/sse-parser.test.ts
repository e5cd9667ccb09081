// The event-stream interpretation rules of WHATWG HTML §9.2.6, case by case.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser, type SseEvent } from '../../verifier/sse-parser.js';

function parse(chunks: readonly string[]) {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const retries: number[] = [];
  const parser = new SseParser({
    event: (e) => events.push(e),
    comment: (c) => comments.push(c),
    retry: (ms) => retries.push(ms),
  });
  for (const c of chunks) parser.push(c);
  return { events, comments, retries, lastEventId: parser.lastEventId };
}

const CASES: [string, string[], { type: string; data: string; lastEventId: string }[]][] = [
  [
    'LF lines',
    ['id: 1\nevent: task.revoked\ndata: {"a":1}\n\n'],
    [{ type: 'task.revoked', data: '{"a":1}', lastEventId: '1' }],
  ],
  ['CRLF lines', ['id: 2\r\ndata: x\r\n\r\n'], [{ type: 'message', data: 'x', lastEventId: '2' }]],
  ['CR lines', ['id: 3\rdata: x\r\r'], [{ type: 'message', data: 'x', lastEventId: '3' }]],
  [
    'CRLF split between chunks',
    ['data: x\r', '\n\r', '\n'],
    [{ type: 'message', data: 'x', lastEventId: '' }],
  ],
  [
    'a field split between chunks',
    ['da', 'ta: hel', 'lo\n', '\n'],
    [{ type: 'message', data: 'hello', lastEventId: '' }],
  ],
  [
    'several data lines join with LF',
    ['data: a\ndata: b\n\n'],
    [{ type: 'message', data: 'a\nb', lastEventId: '' }],
  ],
  ['only one leading space is removed', ['data:  x\n\n'], [{ type: 'message', data: ' x', lastEventId: '' }]],
  ['no space after the colon', ['data:x\n\n'], [{ type: 'message', data: 'x', lastEventId: '' }]],
  ['an event without data is not dispatched', ['event: caught_up\n\n'], []],
  [
    'a field without a colon has an empty value',
    ['data\n\n'],
    [{ type: 'message', data: '', lastEventId: '' }],
  ],
  [
    'an id with NUL is ignored',
    ['id: 5\ndata: a\n\nid: 6\0\ndata: b\n\n'],
    [
      { type: 'message', data: 'a', lastEventId: '5' },
      { type: 'message', data: 'b', lastEventId: '5' },
    ],
  ],
  [
    'the last id carries over to events without one',
    ['id: 7\ndata: a\n\ndata: b\n\n'],
    [
      { type: 'message', data: 'a', lastEventId: '7' },
      { type: 'message', data: 'b', lastEventId: '7' },
    ],
  ],
  [
    'unknown fields are ignored',
    ['foo: bar\ndata: a\n\n'],
    [{ type: 'message', data: 'a', lastEventId: '' }],
  ],
  ['an unterminated event is not dispatched', ['data: a\n'], []],
];

describe('SseParser', () => {
  for (const [name, chunks, want] of CASES) {
    it(name, () => {
      assert.deepEqual(parse(chunks).events, want);
    });
  }

  it('reports comments and valid retry values only', () => {
    const r = parse([': heartbeat\n:x\nretry: 2000\nretry: 2s\nretry:\n\n']);
    assert.deepEqual(r.comments, ['heartbeat', 'x']);
    assert.deepEqual(r.retries, [2000]);
    assert.deepEqual(r.events, []);
  });

  it('resumes from an initial last event id', () => {
    const parser = new SseParser({ event: () => undefined }, '42');
    assert.equal(parser.lastEventId, '42');
    parser.push('id: 43\ndata: x\n\n');
    assert.equal(parser.lastEventId, '43');
  });
});
