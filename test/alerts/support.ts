// Helpers for alert tests: read a service's alerts and the outbox rows they queued.
import type { TestCoffer } from '../support/harness.js';
import { listAlertsForService, type AlertView } from '../../src/alerts/alert.service.js';
import type { Detector, DetectorSetting } from '../../src/alerts/alert.settings.js';

export async function alertsOf(coffer: TestCoffer, serviceId: string, detector?: Detector): Promise<AlertView[]> {
  const all = await listAlertsForService(coffer.ctx, serviceId);
  return detector ? all.filter((a) => a.detector === detector) : all;
}

/** Overrides some detectors' settings for this server (as COFFER_ALERT_THRESHOLDS would). */
export function setDetectors(coffer: TestCoffer, detectors: Partial<Record<Detector, DetectorSetting>>): void {
  coffer.ctx.alerts = { detectors: { ...coffer.ctx.alerts?.detectors, ...detectors } };
}

export async function emailsQueued(coffer: TestCoffer, alertId: string): Promise<number> {
  const rows = await coffer.ctx.db.selectFrom('security_alert_emails').select('id').where('alert_id', '=', alertId).execute();
  return rows.length;
}
