// Where the work in progress came from: the HTTP request or CLI command that caused it. Set once
// at the edge (a Fastify hook, the operation runner) and read by recordAudit, so a domain that
// records `payment.create` does not have to thread IP, user agent and request id through every
// call. Outside any request or command there is no origin, and entries say so (nulls).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuditActor } from './audit.entry.js';

export interface AuditOrigin {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  /** Who is acting, when known; read lazily because a request learns its key after it starts. */
  actor(): AuditActor | undefined;
}

const storage = new AsyncLocalStorage<AuditOrigin>();

export function currentOrigin(): AuditOrigin | undefined {
  return storage.getStore();
}

export function runWithOrigin<T>(origin: AuditOrigin, fn: () => T): T {
  return storage.run(origin, fn);
}
