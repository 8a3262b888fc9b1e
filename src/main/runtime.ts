// Opens what a running Coffer needs: the store (migrated), the master key and the context
// every service function receives. `coffer serve` and direct CLI commands share it.
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { resolveMasterKey } from './config.js';
import type { AppContext } from '../platform/context.js';
import type { Clock } from '../platform/clock.js';
import { openStore, type Store } from '../store/database.js';
import { migrateToLatest } from '../store/migrate.js';
import { SandboxProcessor } from '../connectors/sandbox/sandbox.processor.js';
import { countLiveAccounts } from '../services/service.repo.js';
import { LIVE_NEEDS_MASTER_KEY, LIVE_NEEDS_POSTGRES } from '../services/service.service.js';

export interface Runtime {
  ctx: AppContext;
  store: Store;
  /** Migrations this opening applied (a new store gets them all before anything else runs). */
  migrationsApplied: string[];
  close(): Promise<void>;
}

export async function openRuntime(config: Config, log: Logger, clock: Clock, embeddedDir?: string): Promise<Runtime> {
  const master = resolveMasterKey(config);
  if (master.generated) {
    log.warn(
      { file: master.file },
      'COFFER_MASTER_KEY is not set: generated one into the data directory. Fine for trying Coffer; live accounts need COFFER_MASTER_KEY.',
    );
  }
  const store = await openStore({ databaseUrl: config.databaseUrl, embeddedDir: embeddedDir ?? config.dataDir });
  try {
    const applied = await migrateToLatest(store.db);
    if (applied.length > 0) log.info({ applied }, 'migrations applied');
    const ctx: AppContext = {
      db: store.db,
      storeKind: store.kind,
      clock,
      log,
      masterKey: { key: master.key, fromEnvironment: config.masterKey.source === 'env' },
      cardProcessor: new SandboxProcessor(),
      baseUrl: config.baseUrl,
      console: config.console,
      webhooks: config.webhooks,
      mail: config.mail,
      alerts: config.alerts,
    };
    if ((await countLiveAccounts(store.db)) > 0) {
      if (store.kind === 'embedded') throw new StartupRefusal(LIVE_NEEDS_POSTGRES);
      if (!ctx.masterKey.fromEnvironment) throw new StartupRefusal(LIVE_NEEDS_MASTER_KEY);
    }
    return { ctx, store, migrationsApplied: applied, close: () => store.close() };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** A reason not to start that the operator can act on; printed as it is, without a stack. */
export class StartupRefusal extends Error {}
