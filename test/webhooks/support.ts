// What the webhook tests share: a real HTTP receiver on loopback that records every request as
// it arrived (raw body and headers) and answers as a test tells it, and a tenant with a webhook.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mock } from 'node:test';
import { sql } from 'kysely';
import { Webhook } from 'standardwebhooks';
import type { TestCoffer } from '../support/harness.js';
import { webhookFanoutWorker } from '../../src/webhooks/fanout.worker.js';
import { deliverDueMessages } from '../../src/webhooks/delivery.worker.js';

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Never answer (the sender's deadline must end it). */
  hang?: boolean;
}

export interface Receiver {
  url: string;
  port: number;
  requests: Received[];
  /** How to answer the next requests; the last reply repeats. Default: 200. */
  replies: Reply[];
  close(): Promise<void>;
}

export async function startReceiver(host = '127.0.0.1'): Promise<Receiver> {
  const requests: Received[] = [];
  const receiver: Receiver = { url: '', port: 0, requests, replies: [], close: async () => undefined };
  const hanging = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const reply = (receiver.replies.length > 1 ? receiver.replies.shift() : receiver.replies[0]) ?? { status: 200 };
      if (reply.hang) {
        hanging.add(() => res.destroy());
        return;
      }
      res.writeHead(reply.status, reply.headers ?? {});
      res.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  receiver.port = port;
  receiver.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/webhooks/coffer`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      for (const end of hanging) end();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

/**
 * Runs the fan-out, then delivers everything due now, as a node's workers would. The fan-out
 * passes an event only once every transaction older than it has ended; on a PostgreSQL shared
 * with other test files running at once, a transaction of theirs may briefly hold it back, so
 * this first waits (up to `settleMs`) until no event is held back.
 */
/**
 * Fans out every event committed so far. On PostgreSQL the fan-out passes an event only once
 * every older transaction in the cluster has ended (webhook.repo listFinalEventsAfter), and
 * another test file's transaction, even in another database, may hold it back for a moment.
 */
export async function fanOutEverything(coffer: TestCoffer, options: { settleMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + (options.settleMs ?? 10_000);
  while (Date.now() < deadline) {
    const held = await sql<{ n: number }>`select count(*)::int as n from domain_events where tx_id >= pg_snapshot_xmin(pg_current_snapshot())`.execute(coffer.ctx.db);
    if ((held.rows[0]?.n ?? 0) === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (;;) {
    const fanned = await webhookFanoutWorker.run(coffer.ctx);
    if (!fanned.more) break;
  }
}

export async function runWebhookWorkers(coffer: TestCoffer, options: { settleMs?: number } = {}): Promise<number> {
  await fanOutEverything(coffer, options);
  let delivered = 0;
  for (;;) {
    const batch = await deliverDueMessages(coffer.ctx);
    delivered += batch.handled;
    if (!batch.more) break;
  }
  return delivered;
}

/**
 * Verifies with the `standardwebhooks` package (a verifier nobody here wrote). It checks the
 * timestamp against Date.now(), so Date is pinned to Coffer's frozen clock for that one call.
 */
export function verifyWithStandardWebhooks(secret: string, request: Received, now: Date): unknown {
  mock.timers.enable({ apis: ['Date'], now });
  try {
    return new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
  } finally {
    mock.timers.reset();
  }
}

export const WEBHOOK_SCOPES = ['payments:write', 'refunds:write', 'webhooks:write'];

export async function newWebhookTenant(coffer: TestCoffer, receiverUrl: string, body: Record<string, unknown> = {}) {
  const tenant = await coffer.newTenant({ scopes: WEBHOOK_SCOPES });
  const created = await coffer.request('POST', '/v1/webhooks', { key: tenant.token, body: { callback_url: receiverUrl, ...body } });
  if (created.status !== 201) throw new Error(`webhook not created: ${created.status} ${created.text}`);
  return { ...tenant, webhookId: created.body.webhook.id as string, secret: created.body.signing_secret as string };
}

export async function newPayment(coffer: TestCoffer, token: string, reference = 'ref-1'): Promise<string> {
  const created = await coffer.request('POST', '/v1/payments', {
    key: token,
    body: { amount: 1450, reference, description: 'Pay your council tax', return_url: 'https://service.example.org/return' },
  });
  if (created.status !== 201) throw new Error(`payment not created: ${created.status} ${created.text}`);
  return created.body.payment_id as string;
}

export async function cancelPayment(coffer: TestCoffer, token: string, paymentId: string): Promise<void> {
  const cancelled = await coffer.request('POST', `/v1/payments/${paymentId}/cancel`, { key: token });
  if (cancelled.status !== 204) throw new Error(`payment not cancelled: ${cancelled.status} ${cancelled.text}`);
}
