// `coffer serve`: opens the store, migrates, listens, and shuts down gracefully: stop
// accepting, let in-flight requests finish, then close the database and release the lock.
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../platform/clock.js';
import { buildServer } from '../http/server.js';
import { closeConnectionsWhenDraining } from '../http/draining.js';
import type { HttpApp } from '../http/types.js';
import { operatorSocket, tryLock } from '../store/embedded-lock.js';
import type { Config } from './config.js';
import { startOperatorSocket } from './operator-socket.js';
import { openRuntime, StartupRefusal, type Runtime } from './runtime.js';
import { startWorkers } from './workers.js';
import { VERSION } from './version.js';
import { configureAudit } from '../audit/audit.settings.js';
import { closeRedis, describeRedisUrl, openRedis, redisReady } from '../store/redis.js';

export { VERSION };

export interface RunningServer {
  app: HttpApp;
  runtime: Runtime;
  url: string;
  stop(): Promise<void>;
}

export async function serve(config: Config, log: Logger, clock: Clock = systemClock): Promise<RunningServer> {
  let releaseLock: (() => void) | undefined;
  if (!config.databaseUrl) {
    const lock = tryLock(config.dataDir, 'serve');
    if (!lock.acquired) {
      throw new StartupRefusal(
        `The embedded store in ${config.dataDir} is in use by process ${lock.holder.pid}` +
          (lock.holder.role === 'serve' ? ' (another coffer serve). Stop it first, or give this one its own COFFER_DATA_DIR.' : '. Try again in a moment.'),
      );
    }
    releaseLock = lock.release;
  }

  let runtime: Runtime | undefined;
  let operator: Server | undefined;
  try {
    runtime = await openRuntime(config, log, clock);
    configureAudit(runtime.ctx, config.audit);
    if (config.redisUrl) {
      // Not a reason to refuse to start: until Redis answers, rate limits are counted in PostgreSQL.
      const redis = (runtime.ctx.redis = openRedis(config.redisUrl, log));
      if (!(await redisReady(redis))) log.warn({ redis: describeRedisUrl(config.redisUrl) }, 'Redis not reachable at start: rate limits are counted in PostgreSQL until it is');
    }
    const app = await buildServer(runtime.ctx, {
      baseUrl: config.baseUrl,
      version: VERSION,
      trustedProxies: config.trustedProxies,
      tls: config.tls,
      securityTxt: config.securityTxt,
      metricsToken: config.metricsToken,
    });
    closeConnectionsWhenDraining(app);
    await app.listen({ port: config.port, host: config.host });
    if (!config.databaseUrl) operator = await startOperatorSocket(runtime.ctx, operatorSocket(config.dataDir));
    const workers = startWorkers(runtime.ctx);
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = `${config.tls ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    log.info({ url, store: runtime.store.kind, rateLimits: runtime.ctx.redis ? 'redis' : 'postgres', baseUrl: config.baseUrl }, 'coffer is listening');

    const open = runtime;
    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        log.info('shutting down: no new connections, finishing requests in flight');
        await new Promise<void>((resolve) => (operator ? operator.close(() => resolve()) : resolve()));
        await app.close();
        await workers.stop();
        if (open.ctx.redis) await closeRedis(open.ctx.redis);
        await open.close();
        releaseLock?.();
        log.info('shut down cleanly');
      })());
    return { app, runtime: open, url, stop };
  } catch (err) {
    operator?.close();
    if (runtime?.ctx.redis) await closeRedis(runtime.ctx.redis);
    await runtime?.close();
    releaseLock?.();
    throw err;
  }
}
