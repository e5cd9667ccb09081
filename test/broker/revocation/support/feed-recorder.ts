import type { RevocationFeedEvent } from '../../../../broker/api/ports.js';

/** Records what a feed subscriber receives; tests wait on conditions, never on time. */
export class FeedRecorder {
  readonly events: RevocationFeedEvent[] = [];
  readonly errors: Error[] = [];
  #waiters: { ready: () => boolean; resolve: () => void }[] = [];

  readonly onEvent = (event: RevocationFeedEvent): void => {
    this.events.push(event);
    this.#check();
  };

  readonly onError = (err: Error): void => {
    this.errors.push(err);
    this.#check();
  };

  /** The seqs received, in order. */
  seqs(): string[] {
    return this.events.map((e) => e.seq);
  }

  /** Resolves once `ready()` holds (checked now and after each event or error). */
  until(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ ready, resolve }));
  }

  /** Resolves once an event with this seq has arrived. */
  seen(seq: string): Promise<void> {
    return this.until(() => this.events.some((e) => e.seq === seq));
  }

  #check(): void {
    for (const w of [...this.#waiters]) {
      if (w.ready()) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }
}
