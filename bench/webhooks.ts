// Webhook delivery benchmark: `node --import tsx bench/webhooks.ts`.
// Runs Coffer's real workers (fan-out and delivery, as `coffer serve` runs them) against a
// local receiver on loopback, on the embedded store (or PostgreSQL with DATABASE_URL), and
// prints:
//   1. throughput: deliveries per second to drain a backlog of BENCH_BACKLOG cancelled payments;
//   2. latency: the delay from a payment's state change (its cancel committing) to the receiver
//      holding the signed webhook, p50 / p99 over BENCH_SAMPLES changes made one by one.
// The latency is dominated by the workers' polling interval (1 s, ±20% jitter), by design:
// no transaction stays open and no node is elected; the outbox is polled.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock } from '../src/platform/clock.js';
import type { AppContext } from '../src/platform/context.js';
import { openStore } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { createLogger } from '../src/main/logger.js';
import { SandboxProcessor } from '../src/connectors/sandbox/sandbox.processor.js';
import { createService } from '../src/services/service.service.js';
import { findAccountByServiceAndMode } from '../src/services/service.repo.js';
import { createPayment, cancelPayment } from '../src/payments/payment.service.js';
import { createEndpoint } from '../src/webhooks/webhook.service.js';
import { webhookDeliveryWorker } from '../src/webhooks/delivery.worker.js';
import { webhookFanoutWorker } from '../src/webhooks/fanout.worker.js';
import { startWorkers } from '../src/main/workers.js';

const backlog = Number(process.env.BENCH_BACKLOG ?? 500);
const samples = Number(process.env.BENCH_SAMPLES ?? 100);

const arrived = new Map<string, number>();
let waiting: (() => void) | undefined;
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resource_id: string };
    arrived.set(body.resource_id, performance.now());
    res.writeHead(204).end();
    waiting?.();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const port = (receiver.address() as AddressInfo).port;

const dir = process.env.DATABASE_URL ? undefined : mkdtempSync(join(tmpdir(), 'coffer-bench-'));
const store = await openStore({ databaseUrl: process.env.DATABASE_URL, embeddedDir: dir });
await migrateToLatest(store.db);
const ctx: AppContext = {
  db: store.db,
  storeKind: store.kind,
  clock: systemClock,
  log: createLogger('warn'),
  masterKey: { key: randomBytes(32), fromEnvironment: true },
  cardProcessor: new SandboxProcessor(),
  baseUrl: 'http://127.0.0.1',
  webhooks: { allowPrivateNetworks: ['loopback'] },
};

const service = await createService(ctx, { name: 'Bench' });
const account = await findAccountByServiceAndMode(ctx.db, service.id, 'test');
if (!account) throw new Error('no test account');
const caller = { accountId: account.id, serviceId: service.id, mode: 'test' as const };
await createEndpoint(ctx, { serviceId: service.id, mode: 'test', url: `http://127.0.0.1:${port}/hook`, eventTypes: ['card_payment_cancelled'], createdBy: 'bench' });

async function cancelledPayment(i: number): Promise<string> {
  const created = await createPayment(ctx, caller, { amount: 1000 + i, reference: `bench-${i}`, description: 'Bench', return_url: 'https://example.org/r' });
  await cancelPayment(ctx, account!.id, created.payment.payment_id);
  return created.payment.payment_id;
}

async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise<void>((resolve) => (waiting = resolve));
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

try {
  console.log(`store: ${store.kind}; backlog ${backlog}; latency samples ${samples}`);
  for (let i = 0; i < backlog; i++) await cancelledPayment(i);
  const started = performance.now();
  const workers = startWorkers(ctx, [webhookFanoutWorker, webhookDeliveryWorker]);
  await until(() => arrived.size >= backlog);
  const seconds = (performance.now() - started) / 1000;
  console.log(`throughput: ${backlog} deliveries in ${seconds.toFixed(2)} s = ${(backlog / seconds).toFixed(0)} deliveries/s`);

  const delays: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    const id = await cancelledPayment(backlog + i);
    await until(() => arrived.has(id));
    delays.push((arrived.get(id) ?? NaN) - t0);
    await sleep(Math.random() * 50);
  }
  delays.sort((a, b) => a - b);
  console.log(`state change → delivered: p50 ${percentile(delays, 50).toFixed(0)} ms, p99 ${percentile(delays, 99).toFixed(0)} ms, max ${delays.at(-1)?.toFixed(0)} ms`);
  await workers.stop();
} finally {
  receiver.close();
  await store.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
