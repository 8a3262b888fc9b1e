// The counting every threshold detector shares: events go into fixed windows aligned to the
// detector's window length (so one counter row per subject and window, atomic across nodes).
// The event that reaches the threshold raises the alert with the whole count; each later event
// in that window adds one to it (in batches once a flood passes 100). A burst that straddles a window boundary can be split in two
// and missed if neither half reaches the threshold: a fair price for one row per window.
import type { Kysely } from 'kysely';
import type { AppContext } from '../../platform/context.js';
import type { Database } from '../../store/schema.js';
import * as repo from '../alert.repo.js';
import { detectorSetting, type Detector } from '../alert.settings.js';

export function windowStart(ctx: AppContext, detector: Detector): Date {
  const now = ctx.clock.now().getTime();
  const { windowMs } = detectorSetting(ctx, detector);
  return new Date(now - (now % windowMs));
}

/** Counts one event; returns how many occurrences to raise (0: below the threshold). */
export async function countEvent(db: Kysely<Database>, ctx: AppContext, detector: Detector, subject: string): Promise<number> {
  const count = await repo.bumpCounter(db, detector, subject, windowStart(ctx, detector));
  return occurrencesToRaise(ctx, detector, count);
}

/** Counts a value once per window (a card, an address); returns occurrences to raise as above. */
export async function countDistinct(db: Kysely<Database>, ctx: AppContext, detector: Detector, subject: string, value: string): Promise<number> {
  const start = windowStart(ctx, detector);
  if (!(await repo.addDistinctValue(db, detector, subject, start, value))) return 0;
  return occurrencesToRaise(ctx, detector, await repo.bumpCounter(db, detector, subject, start));
}

/**
 * Past EXACT_UP_TO events in a window, a flood is written to its alert in batches of FLOOD_BATCH
 * (one alert update per batch, not per event), so the alert's count is exact to within a batch.
 */
const EXACT_UP_TO = 100;
const FLOOD_BATCH = 100;

export function occurrencesToRaise(ctx: AppContext, detector: Detector, count: number): number {
  const { threshold } = detectorSetting(ctx, detector);
  if (count < threshold) return 0;
  if (count === threshold) return count;
  if (count <= Math.max(EXACT_UP_TO, threshold)) return 1;
  return count % FLOOD_BATCH === 0 ? FLOOD_BATCH : 0;
}
