// Tables of the audit log (kept in step with migrations/0006_audit.ts), joined into Database.
import type { ColumnType, Generated, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export type ActorType = 'key' | 'user' | 'operator' | 'system' | 'anonymous';
export type AuditOutcome = 'success' | 'failure' | 'denied';

export interface AuditLogTable {
  id: Generated<number>;
  entry_id: string;
  occurred_at: Timestamp;
  actor_type: ActorType;
  actor_id: string;
  action: string;
  object_type: string | null;
  object_id: string | null;
  service_id: string | null;
  account_id: string | null;
  ip: string | null;
  user_agent: string | null;
  outcome: AuditOutcome;
  request_id: string | null;
  details: ColumnType<Record<string, unknown>, string, never>;
  seq: number | null;
  prev_hash: string | null;
  hash: string | null;
}

export interface AuditChainHeadTable {
  id: number;
  seq: number;
  hash: string;
}

export interface AuditCheckpointsTable {
  id: Generated<number>;
  kind: 'periodic' | 'cut';
  size: number;
  head_hash: string;
  signed_at: Timestamp;
  key_id: string;
  signature: string;
}

export interface AuditTables {
  audit_log: AuditLogTable;
  audit_chain_head: AuditChainHeadTable;
  audit_checkpoints: AuditCheckpointsTable;
}

export type AuditRow = Selectable<AuditLogTable>;
export type AuditCheckpointRow = Selectable<AuditCheckpointsTable>;
