// Tables of the page infrastructure shared by the payment pages and the console. Kept in step
// with migrations/0003_hosted.ts.
import type { ColumnType, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export type SessionPurpose = 'payer' | 'console';

/** A browser session. Only the SHA-256 of the cookie value is stored, never the value. */
export interface WebSessionsTable {
  id_hash: string;
  purpose: SessionPurpose;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
}

export interface WebTables {
  web_sessions: WebSessionsTable;
}

export type WebSessionRow = Selectable<WebSessionsTable>;
