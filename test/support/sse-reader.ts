// Reads a server-sent event stream over real HTTP for tests: events and comments as they arrive,
// waits on conditions (never on time), and knows when the server ended the stream.
import { SseParser, type SseEvent } from '../../verifier/sse-parser.js';

/** An open stream. */
export interface SseReader {
  readonly status: number;
  readonly headers: Headers;
  readonly events: SseEvent[];
  readonly comments: string[];
  /** `retry:` values received. */
  readonly retries: number[];
  /** Resolves once `ready()` holds (checked after every chunk). */
  until(ready: () => boolean): Promise<void>;
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

/** Opens `url` with `headers` and starts reading; a non-200 answer is returned with its body unread. */
export async function openSse(url: string, headers: Record<string, string>): Promise<SseReader> {
  const controller = new AbortController();
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const retries: number[] = [];
  const waiters: { ready: () => boolean; resolve: () => void }[] = [];
  const check = (): void => {
    for (const w of [...waiters]) {
      if (w.ready()) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const parser = new SseParser({
    event: (e) => events.push(e),
    comment: (c) => comments.push(c),
    retry: (ms) => retries.push(ms),
  });
  const ended = (async () => {
    if (res.body === null) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        parser.push(decoder.decode(chunk, { stream: true }));
        check();
      }
    } catch {
      // Aborted by close().
    }
  })();
  return {
    status: res.status,
    headers: res.headers,
    events,
    comments,
    retries,
    until(ready) {
      if (ready()) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ ready, resolve }));
    },
    ended,
    close: () => controller.abort(),
  };
}
