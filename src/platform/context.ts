// What every service function is handed: the database, the clock and the logger, plus
// facts about the deployment that some rules depend on (live accounts need PostgreSQL and
// an operator-supplied master key).
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { Database } from '../store/schema.js';
import type { StoreKind } from '../store/database.js';
import type { CardProcessor } from '../connectors/connector.js';

export interface AppContext {
  db: Kysely<Database>;
  storeKind: StoreKind;
  clock: Clock;
  log: Logger;
  masterKey: { key: Buffer; fromEnvironment: boolean };
  /** Where payers and users reach this Coffer, e.g. https://pay.example.org (no trailing slash). */
  baseUrl: string;
  /** The card processor (the sandbox until real ones are added). */
  cardProcessor: CardProcessor;
}
