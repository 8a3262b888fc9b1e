// Every migration, in order. Migrations are imported, not read from disk, so the built
// package carries them and nothing depends on the working directory.
import type { Migration } from 'kysely';
import * as foundation from './0001_foundation.js';

export const migrations: Record<string, Migration> = {
  '0001_foundation': foundation,
};
