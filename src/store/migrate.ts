// Applies migrations. Kysely's migrator takes a row lock on its lock table inside a
// transaction, so several nodes starting at once apply each migration exactly once.
import { Migrator, type Kysely, type MigrationResultSet } from 'kysely';
import { migrations } from './migrations/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run before and beside the typed schema
type AnyDb = Kysely<any>;

function migrator(db: AnyDb): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'coffer_migrations',
    migrationLockTableName: 'coffer_migrations_lock',
    // Domains add migrations independently; a new one need not sort after every applied one.
    allowUnorderedMigrations: true,
  });
}

export async function migrateToLatest(db: AnyDb): Promise<string[]> {
  const result: MigrationResultSet = await migrator(db).migrateToLatest();
  if (result.error) throw result.error;
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Names of migrations this build knows but the database has not applied. */
export async function pendingMigrations(db: AnyDb): Promise<string[]> {
  const all = await migrator(db).getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}
