/** One dispatched server-sent event. */
export interface SseEvent {
  /** The `event` field, `message` when absent. */
  readonly type: string;
  /** The `data` lines joined with `\n`. */
  readonly data: string;
  /** The last event ID after this event (the stream's, not only this event's). */
  readonly lastEventId: string;
}

/** What the parser reports. */
export interface SseHandlers {
  event(event: SseEvent): void;
  /** A comment line (`: heartbeat`), without the colon. */
  comment?(text: string): void;
  /** A valid `retry` field, in milliseconds. */
  retry?(ms: number): void;
}

/**
 * An incremental parser of `text/event-stream` (WHATWG HTML §9.2.6 "Interpreting an event stream"):
 * lines end in CRLF, LF or CR (also across chunks); `:` starts a comment; `field: value` with one
 * leading space removed; `id` containing NUL is ignored; an empty line dispatches the event, unless
 * its data is empty. Feed it decoded text with {@link push}.
 */
export class SseParser {
  #buffer = '';
  #pendingCr = false;
  #type = '';
  #data: string[] = [];
  #lastEventId = '';

  constructor(
    private readonly handlers: SseHandlers,
    initialLastEventId = '',
  ) {
    this.#lastEventId = initialLastEventId;
  }

  /** The stream's last event ID (the `Last-Event-ID` to resume from). */
  get lastEventId(): string {
    return this.#lastEventId;
  }

  /** Parses the next chunk of decoded text. */
  push(text: string): void {
    let chunk = text;
    // A CR ending the previous chunk already ended its line; a LF right after it belongs to it.
    if (this.#pendingCr && chunk.startsWith('\n')) chunk = chunk.slice(1);
    this.#pendingCr = false;
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.#line(this.#buffer + chunk.slice(start, i));
      this.#buffer = '';
      if (c === 13) {
        if (i + 1 === chunk.length) this.#pendingCr = true;
        else if (chunk.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.#buffer += chunk.slice(start);
  }

  #line(line: string): void {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return this.handlers.comment?.(line.slice(1).trimStart());
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.#type = value;
        break;
      case 'data':
        this.#data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.#lastEventId = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.handlers.retry?.(Number(value));
        break;
      default:
      // Unknown fields are ignored (§9.2.6).
    }
  }

  #dispatch(): void {
    const data = this.#data;
    const type = this.#type;
    this.#data = [];
    this.#type = '';
    if (data.length === 0) return;
    this.handlers.event({
      type: type === '' ? 'message' : type,
      data: data.join('\n'),
      lastEventId: this.#lastEventId,
    });
  }
}
