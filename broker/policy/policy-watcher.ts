import { watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { BrokerError } from '../errors.js';
import { loadPolicyFile } from './load-policy.js';
import { PolicyInvalidError, type PolicyIssue } from './policy-error.js';
import type { Policy } from './policy-types.js';

/** What the reload hook receives; the caller writes the ledger's `policy reloaded` event from it. */
export interface PolicyReloadInfo {
  readonly version: number;
  readonly sha256: string;
  readonly revision: string | undefined;
  readonly previousSha256: string;
}

/** The outcome of one reload. */
export type ReloadResult =
  | { readonly ok: true; readonly changed: boolean; readonly policy: Policy }
  | { readonly ok: false; readonly error: BrokerError; readonly issues: readonly PolicyIssue[] };

/** A file-change seam: calls `onChange` when `path` may have changed; `close` stops watching. */
export type WatchFile = (path: string, onChange: () => void) => { close(): void };

/** The timer seam for the debounce (the fake clock provides the same pair). */
export interface DebounceTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** What {@link createPolicyWatcher} needs. */
export interface PolicyWatcherDeps {
  readonly path: string;
  /** Reads and validates the file; {@link loadPolicyFile} unless given. */
  readonly load?: (path: string) => Promise<Policy>;
  /** Watches the file; no watching when absent (reload on demand only, e.g. on SIGHUP). */
  readonly watchFile?: WatchFile;
  readonly timers?: DebounceTimers;
  /** Changes within this window become one reload (editors write files in several steps). */
  readonly debounceMs?: number;
  /**
   * Called with the new policy's identity BEFORE it takes effect; if it throws (the ledger is down),
   * the old policy stays, so no policy is ever in force without its ledger event.
   */
  readonly onReload?: (info: PolicyReloadInfo) => void | Promise<void>;
  /** Called when a reload is refused: the file is unreadable or invalid (every issue listed). */
  readonly onError?: (error: BrokerError, issues: readonly PolicyIssue[]) => void;
}

/** Holds the policy in force and replaces it on reload. */
export interface PolicyWatcher {
  /**
   * The policy in force: an immutable snapshot. A request takes it once and decides with it to the end,
   * so a reload never changes the rules under a request in flight.
   */
  current(): Policy;
  /** Reloads now (wire SIGHUP here). Reloads are serialized; an invalid file keeps the old policy. */
  reload(): Promise<ReloadResult>;
  /** Stops watching and cancels a pending debounced reload. */
  close(): void;
}

/**
 * Watches `path` through its folder, so the replace-by-rename most editors and config managers do is
 * seen too (a watch on the file itself would follow the old, unlinked inode).
 */
export const fsWatchFile: WatchFile = (path, onChange) => {
  const name = basename(path);
  const watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
    if (file === null || file === name) onChange();
  });
  return { close: () => watcher.close() };
};

function refusal(err: unknown): ReloadResult {
  const error =
    err instanceof BrokerError ? err : new BrokerError('BROKER_INTERNAL', undefined, { cause: err });
  const issues = err instanceof PolicyInvalidError ? err.issues : [];
  return { ok: false, error, issues };
}

/** Runs `fn` once `ms` after the last of a burst of calls; `cancel` drops a pending run for good. */
function debounce(timers: DebounceTimers, ms: number, fn: () => void): { call(): void; cancel(): void } {
  let pending: unknown;
  let cancelled = false;
  return {
    call() {
      if (cancelled) return;
      if (pending !== undefined) timers.clearTimeout(pending);
      pending = timers.setTimeout(() => {
        pending = undefined;
        fn();
      }, ms);
    },
    cancel() {
      cancelled = true;
      if (pending !== undefined) timers.clearTimeout(pending);
      pending = undefined;
    },
  };
}

const NODE_TIMERS: DebounceTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Loads the policy at `deps.path` and keeps it current (DESIGN.md, Concepts: Policy: "reloadable
 * without restart"; ISSUE 3: reload on SIGHUP or file change without dropping requests).
 *
 * @throws {PolicyInvalidError} or {@link BrokerError} `BROKER_POLICY_UNREADABLE` when the FIRST load
 * fails: the broker must not start without a valid policy. Later failures keep the old policy and go
 * to `onError`.
 */
export async function createPolicyWatcher(deps: PolicyWatcherDeps): Promise<PolicyWatcher> {
  const load = deps.load ?? loadPolicyFile;
  let policy = await load(deps.path);
  let chain: Promise<unknown> = Promise.resolve();

  const refuse = (err: unknown): ReloadResult => {
    const result = refusal(err);
    if (!result.ok) deps.onError?.(result.error, result.issues);
    return result;
  };

  const reloadOnce = async (): Promise<ReloadResult> => {
    let next: Policy;
    try {
      next = await load(deps.path);
    } catch (err) {
      return refuse(err);
    }
    if (next.sha256 === policy.sha256) return { ok: true, changed: false, policy };
    const { version, sha256, revision } = next;
    try {
      // Recorded before it takes effect: no policy is in force without its ledger event.
      await deps.onReload?.({ version, sha256, revision, previousSha256: policy.sha256 });
    } catch (err) {
      return refuse(err);
    }
    policy = next;
    return { ok: true, changed: true, policy };
  };

  const reload = (): Promise<ReloadResult> => {
    const run = chain.then(reloadOnce, reloadOnce);
    chain = run;
    return run;
  };

  const onChange = debounce(deps.timers ?? NODE_TIMERS, deps.debounceMs ?? 200, () => void reload());
  const watcher = deps.watchFile?.(deps.path, () => onChange.call());
  return {
    current: () => policy,
    reload,
    close() {
      onChange.cancel();
      watcher?.close();
    },
  };
}
