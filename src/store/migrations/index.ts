// Every migration, in order. Migrations are imported, not read from disk, so the built
// package carries them and nothing depends on the working directory.
import type { Migration } from 'kysely';
import * as foundation from './0001_foundation.js';
import * as audit from './0006_audit.js';
import * as console from './0005_console.js';
import * as webhooks from './0004_webhooks.js';
import * as payments from './0002_payments.js';
import * as paymentLimits from './0002b_payments_limits.js';
import * as hosted from './0003_hosted.js';
import * as alerts from './0007_alerts.js';
import * as alertKeyCountries from './0007b_alert_key_countries.js';
import * as auditByService from './0006b_audit_by_service.js';

export const migrations: Record<string, Migration> = {
  '0001_foundation': foundation,
  '0006_audit': audit,
  '0005_console': console,
  '0002_payments': payments,
  '0002b_payments_limits': paymentLimits,
  '0003_hosted': hosted,
  '0004_webhooks': webhooks,
  '0007_alerts': alerts,
  '0007b_alert_key_countries': alertKeyCountries,
  '0006b_audit_by_service': auditByService,
};
