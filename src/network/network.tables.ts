// The per-account network allow-lists (kept in step with migrations/0006_audit.ts).
import type { ColumnType, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export type NetworkPurpose = 'api' | 'console';

export interface NetworkAllowListsTable {
  id: string;
  service_id: string;
  account_id: string;
  purpose: NetworkPurpose;
  cidr: string;
  created_by: string;
  created_at: Timestamp;
}

export interface NetworkTables {
  network_allow_lists: NetworkAllowListsTable;
}

export type NetworkAllowRow = Selectable<NetworkAllowListsTable>;
