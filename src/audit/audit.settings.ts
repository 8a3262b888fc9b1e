// How long audit entries are kept and how often checkpoints are signed. Set from the
// configuration when Coffer starts (COFFER_AUDIT_RETENTION, COFFER_AUDIT_CHECKPOINT_INTERVAL);
// anything that has not been configured (tests, a bare context) gets the defaults.
import type { AppContext } from '../platform/context.js';

export interface AuditSettings {
  /** PCI DSS 10.5.1: at least 12 months. */
  retentionMs: number;
  checkpointIntervalMs: number;
}

export const DEFAULT_AUDIT_SETTINGS: AuditSettings = {
  retentionMs: 365 * 86_400_000,
  checkpointIntervalMs: 15 * 60_000,
};

const settings = new WeakMap<object, AuditSettings>();

export function configureAudit(ctx: AppContext, value: Partial<AuditSettings>): void {
  settings.set(ctx, { ...DEFAULT_AUDIT_SETTINGS, ...value });
}

export function auditSettingsFor(ctx: AppContext): AuditSettings {
  return settings.get(ctx) ?? DEFAULT_AUDIT_SETTINGS;
}
