// The figures on an account's console dashboard: today, this week (since Monday) and a day by
// day series, all in UTC and all from one query. "Success rate" is over the payments that have
// finished (an unfinished payment has not failed yet), so it does not sag while payers type.
import type { AppContext } from '../platform/context.js';
import { countPaymentsByDay, type DayCounts } from './payment-stats.repo.js';

export const CHART_DAYS = 30;
const DAY_MS = 86_400_000;

export interface Totals {
  created: number;
  succeeded: number;
  succeededAmount: number;
  unsuccessful: number;
}

export interface DashboardStats {
  /** YYYY-MM-DD (UTC) of today and of this week's Monday. */
  today: string;
  weekStart: string;
  todayTotals: Totals;
  weekTotals: Totals;
  /** Succeeded out of finished this week, as a whole percentage; null when none finished. */
  successRate: number | null;
  /** Every day of the chart, oldest first, including days with no payments. */
  days: DayCounts[];
}

const dayOf = (at: Date): string => at.toISOString().slice(0, 10);
const startOfDay = (at: Date): Date => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));

function sum(days: readonly DayCounts[]): Totals {
  const totals: Totals = { created: 0, succeeded: 0, succeededAmount: 0, unsuccessful: 0 };
  for (const d of days) {
    totals.created += d.created;
    totals.succeeded += d.succeeded;
    totals.succeededAmount += d.succeededAmount;
    totals.unsuccessful += d.unsuccessful;
  }
  return totals;
}

export async function dashboardStats(ctx: AppContext, accountId: string): Promise<DashboardStats> {
  const now = ctx.clock.now();
  const todayStart = startOfDay(now);
  // Monday is day 1; Sunday (0) belongs to the week that began six days before.
  const weekStart = new Date(todayStart.getTime() - ((todayStart.getUTCDay() + 6) % 7) * DAY_MS);
  const chartStart = new Date(todayStart.getTime() - (CHART_DAYS - 1) * DAY_MS);
  const from = weekStart < chartStart ? weekStart : chartStart;
  const counted = new Map((await countPaymentsByDay(ctx.db, accountId, from, new Date(todayStart.getTime() + DAY_MS))).map((d) => [d.day, d]));

  const span = (start: Date, count: number): DayCounts[] =>
    Array.from({ length: count }, (_, i) => {
      const day = dayOf(new Date(start.getTime() + i * DAY_MS));
      return counted.get(day) ?? { day, created: 0, succeeded: 0, succeededAmount: 0, unsuccessful: 0 };
    });
  const week = span(weekStart, Math.round((todayStart.getTime() - weekStart.getTime()) / DAY_MS) + 1);
  const weekTotals = sum(week);
  const finished = weekTotals.succeeded + weekTotals.unsuccessful;
  return {
    today: dayOf(todayStart),
    weekStart: dayOf(weekStart),
    todayTotals: sum(span(todayStart, 1)),
    weekTotals,
    successRate: finished === 0 ? null : Math.round((weekTotals.succeeded / finished) * 100),
    days: span(chartStart, CHART_DAYS),
  };
}
