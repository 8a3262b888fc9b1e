// The optional Redis (REDIS_URL): state that every node must share and that changes on nearly
// every request, such as the per-account rate-limit counters, which would otherwise cost a
// PostgreSQL write per API call. Redis holds nothing that must survive it: whatever uses it
// falls back to PostgreSQL while it is unreachable, so Redis going away never stops payments.
//
// The client is set to fail fast instead of waiting: no offline queue (a command while the
// connection is down is refused at once), one attempt per command, a short command timeout.
// It reconnects in the background, with a capped back-off.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

const COMMAND_TIMEOUT_MS = 250;
const CONNECT_TIMEOUT_MS = 2000;
const MAX_RECONNECT_DELAY_MS = 2000;
const LOG_EVERY_MS = 30_000;

/** Where Redis is, for logs: host, port and database, never the password. */
export function describeRedisUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.hostname}:${parsed.port || '6379'}${parsed.pathname && parsed.pathname !== '/' ? parsed.pathname : ''}`;
}

export function openRedis(url: string, log: Logger): Redis {
  const where = describeRedisUrl(url);
  let lastLogged = 0;
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 200, MAX_RECONNECT_DELAY_MS),
  });
  // Without a listener, a connection error would be thrown as an unhandled 'error' event.
  client.on('error', (err: Error) => {
    const now = Date.now();
    if (now - lastLogged < LOG_EVERY_MS) return;
    lastLogged = now;
    log.warn({ redis: where, err: { message: err.message } }, 'Redis unreachable: falling back to PostgreSQL for what it holds');
  });
  client.on('ready', () => {
    lastLogged = 0;
    log.info({ redis: where }, 'Redis connected');
  });
  return client;
}

/** Resolves once the client is connected, or after `withinMs` (false): callers go on either way. */
export function redisReady(client: Redis, withinMs = CONNECT_TIMEOUT_MS): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      resolve(false);
    }, withinMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    client.once('ready', onReady);
  });
}

/** Closes the connection: QUIT when connected, otherwise drops it. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // fall through: drop it
    }
  }
  client.disconnect();
}
