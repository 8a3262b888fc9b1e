// Rate limits counted in Redis (REDIS_URL, payments/rate-counter.ts), against the real Redis of
// COFFER_TEST_REDIS_URL: the count lives in Redis, not in PostgreSQL, and holds across nodes;
// while Redis cannot be reached the count goes to PostgreSQL, so limits still hold; when it
// comes back, counting returns to it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { startCoffer, testRedisUrl, usingPostgres, type TestCoffer } from '../support/harness.js';
import { configureAccount } from '../../src/payments/account-settings.js';
import { metricsFor } from '../../src/metrics/metrics.js';
import { redisReady } from '../../src/store/redis.js';
import { ManualClock } from '../../src/platform/clock.js';
import { assertError, validPayment } from './support.js';

const redisUrl = testRedisUrl();
const skip = !redisUrl && 'needs COFFER_TEST_REDIS_URL';

let coffer: TestCoffer;
let inspect: Redis;
const clock = new ManualClock(new Date('2026-11-25T12:00:00.000Z'));

before(async () => {
  if (!redisUrl) return;
  coffer = await startCoffer({ clock, redisUrl });
  inspect = new Redis(redisUrl);
});
after(async () => {
  if (!redisUrl) return;
  await coffer.close();
  inspect.disconnect();
});

const create = (node: TestCoffer, key: string) => node.request('POST', '/v1/payments', { key, body: validPayment() });

async function limitedTenant(node: TestCoffer, perSecond: number): Promise<{ token: string; accountId: string }> {
  const { token, serviceId } = await node.newTenant();
  const { id: accountId } = await node.ctx.db.selectFrom('accounts').select('id').where('service_id', '=', serviceId).where('mode', '=', 'test').executeTakeFirstOrThrow();
  await configureAccount(node.ctx, accountId, { rate_limit_create_per_second: perSecond });
  clock.advance(6000); // past every node's cached settings, into a fresh window
  return { token, accountId };
}

const windowKey = (accountId: string) => {
  const now = clock.now().getTime();
  return `coffer:rate:create_payment:${accountId}:${now - (now % 1000)}`;
};
const postgresCount = async (node: TestCoffer, accountId: string) =>
  (await node.ctx.db.selectFrom('rate_limit_counters').select('count').where('bucket', '=', `create_payment:${accountId}`).execute()).reduce((sum, row) => sum + Number(row.count), 0);

describe('rate limits in Redis', { skip }, () => {
  test('the count lives in Redis, expires with its window, and PostgreSQL writes nothing for it', async () => {
    const { token, accountId } = await limitedTenant(coffer, 2);
    assert.equal((await create(coffer, token)).status, 201);
    assert.equal((await create(coffer, token)).status, 201);
    assertError(await create(coffer, token), 429, 'P0900');
    assert.equal(await inspect.get(windowKey(accountId)), '3');
    const ttl = await inspect.pttl(windowKey(accountId));
    assert.ok(ttl > 0 && ttl <= 10_000, `the window's key expires (pttl ${ttl})`);
    assert.equal(await postgresCount(coffer, accountId), 0);
    clock.advance(1000);
    assert.equal((await create(coffer, token)).status, 201, 'a new second, a new window');
  });

  test('two nodes on one database share the count', { skip: !usingPostgres() && 'two nodes need PostgreSQL' }, async () => {
    const other = await startCoffer({ clock, redisUrl });
    try {
      const { token, accountId } = await limitedTenant(coffer, 3);
      const statuses = [];
      for (const node of [coffer, other, coffer, other]) statuses.push((await create(node, token)).status);
      assert.deepEqual(statuses, [201, 201, 201, 429]);
      assert.equal(await inspect.get(windowKey(accountId)), '4');
    } finally {
      await other.close();
    }
  });

  test('with Redis unreachable, requests are counted in PostgreSQL and the limit still holds', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const node = await startCoffer({ clock, redisUrl: `redis://127.0.0.1:${port}` });
    try {
      assert.notEqual(node.ctx.redis?.status, 'ready');
      const { token, accountId } = await limitedTenant(node, 2);
      // prom-client hands out its live value objects: read the number now.
      const fallbacks = async () => (await metricsFor(node.ctx).rateLimitFallbacks.get()).values[0]?.value ?? 0;
      const before = await fallbacks();
      assert.equal((await create(node, token)).status, 201);
      assert.equal((await create(node, token)).status, 201);
      assertError(await create(node, token), 429, 'P0900');
      assert.equal(await postgresCount(node, accountId), 3);
      assert.equal((await fallbacks()) - before, 3);
    } finally {
      await node.close();
    }
  });

  test('Redis going away mid-way: PostgreSQL takes the count; when Redis is back, it counts again', async () => {
    // A TCP relay in front of the real Redis, closed and reopened to make Redis go away and return.
    const target = new URL(redisUrl!);
    const sockets = new Set<Socket>();
    const relay = (): Server =>
      createServer((client) => {
        const upstream = connect(Number(target.port || 6379), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
    let server = relay();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const relayed = new URL(redisUrl!);
    relayed.host = `127.0.0.1:${port}`;
    const node = await startCoffer({ clock, redisUrl: relayed.toString() });
    try {
      assert.equal(node.ctx.redis?.status, 'ready');
      const { token, accountId } = await limitedTenant(node, 4);
      assert.equal((await create(node, token)).status, 201);
      assert.equal(await inspect.get(windowKey(accountId)), '1');

      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      assert.equal((await create(node, token)).status, 201);
      assert.equal((await create(node, token)).status, 201);
      assert.equal(await postgresCount(node, accountId), 2, 'counted in PostgreSQL while Redis was away');
      // (The window's key may have expired by now on a slow machine: at most the first count.)
      assert.ok(Number((await inspect.get(windowKey(accountId))) ?? 0) <= 1, 'Redis did not get them');

      server = relay();
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      assert.ok(await redisReady(node.ctx.redis!, 10_000), 'the client reconnects by itself');
      const inRedisBefore = Number((await inspect.get(windowKey(accountId))) ?? 0);
      assert.equal((await create(node, token)).status, 201);
      assert.equal(Number(await inspect.get(windowKey(accountId))), inRedisBefore + 1, 'counted in Redis again');
      assert.equal(await postgresCount(node, accountId), 2, 'and not in PostgreSQL');
    } finally {
      await node.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    }
  });
});
