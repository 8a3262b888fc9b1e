// A background worker: a function run every so often on every node. Workers must be safe with
// many nodes running them at once, which they achieve in SQL (FOR UPDATE SKIP LOCKED, or
// compare-and-set updates), never by electing a leader.
import type { AppContext } from './context.js';

export interface Worker {
  name: string;
  /** Pause between runs; a run that did a full batch of work runs again at once. */
  intervalMs: number;
  /** Does one batch; returns how many items it handled and whether more may be waiting. */
  run(ctx: AppContext): Promise<{ handled: number; more: boolean }>;
}
