import { randomUUID } from 'node:crypto';

/** Where task and credential ids come from (injected, so tests can fix them). Ids are UUIDs. */
export interface IdSource {
  newId(): string;
}

/** Random version 4 UUIDs from `node:crypto`. */
export const randomIds: IdSource = Object.freeze({ newId: () => randomUUID() });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` is a UUID (the form of every task and credential id). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
