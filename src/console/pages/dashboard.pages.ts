// Console page for the account's home: payments today and this week, the success rate, and a
// chart of money collected per day, drawn here as plain SVG geometry for the template (no
// script, no third party), with the same figures as a table for anyone the chart does not serve.
// Registered by service-pages.ts; the page goes through servicePage() in console.shell.ts,
// which does the session, service, allow-list, role and step-up checks before the handler runs.
import type { HttpApp } from '../../http/types.js';
import { formatMoney } from '../../web/i18n.js';
import { dashboardStats, type DashboardStats } from '../../payments/payment-stats.js';
import type { DayCounts } from '../../payments/payment-stats.repo.js';
import type { ConsoleKit } from './console.kit.js';
import { servicePage } from './console.shell.js';

// The chart's coordinate system; the SVG scales to its container (viewBox).
const WIDTH = 720;
const HEIGHT = 260;
const LEFT = 70;
const RIGHT = 10;
const TOP = 10;
const BOTTOM = 30;

const money = (amount: number): string => formatMoney(amount, 'GBP');
const shortDate = (day: string): string =>
  new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(new Date(`${day}T00:00:00Z`));
// GOV.UK style, "Wednesday 25 November 2026", with no comma whatever the ICU version prefers.
const longDate = (day: string): string => {
  const at = new Date(`${day}T00:00:00Z`);
  const weekday = new Intl.DateTimeFormat('en-GB', { weekday: 'long', timeZone: 'UTC' }).format(at);
  return `${weekday} ${new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(at)}`;
};

/** A round top for the y axis (1, 2 or 5 times a power of ten, in pounds), at least £10. */
function niceCeiling(amount: number): number {
  const pounds = Math.max(amount / 100, 10);
  const power = 10 ** Math.floor(Math.log10(pounds));
  const step = [1, 2, 5, 10].find((m) => m * power >= pounds) ?? 10;
  return step * power * 100;
}

export interface Chart {
  width: number;
  height: number;
  axis: { x1: number; y1: number; x2: number; y2: number };
  ticks: { y: number; label: string }[];
  bars: { x: number; y: number; width: number; height: number; title: string }[];
  dates: { x: number; label: string }[];
}

export function chartOf(days: readonly DayCounts[]): Chart {
  const top = niceCeiling(Math.max(0, ...days.map((d) => d.succeededAmount)));
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const slot = (WIDTH - LEFT - RIGHT) / days.length;
  const yOf = (amount: number) => TOP + plotHeight - (amount / top) * plotHeight;
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    width: WIDTH,
    height: HEIGHT,
    axis: { x1: LEFT, y1: TOP + plotHeight, x2: WIDTH - RIGHT, y2: TOP + plotHeight },
    ticks: [0, 0.5, 1].map((f) => ({ y: round(yOf(top * f)), label: money(top * f) })),
    bars: days.map((d, i) => ({
      x: round(LEFT + i * slot + slot * 0.15),
      y: round(yOf(d.succeededAmount)),
      width: round(slot * 0.7),
      height: round(TOP + plotHeight - yOf(d.succeededAmount)),
      title: `${shortDate(d.day)}: ${money(d.succeededAmount)} from ${d.succeeded} successful ${d.succeeded === 1 ? 'payment' : 'payments'}`,
    })),
    // A date under every seventh bar, counting back from today, so today is always labelled.
    dates: days
      .map((d, i) => ({ i, d }))
      .filter(({ i }) => (days.length - 1 - i) % 7 === 0)
      .map(({ i, d }) => ({ x: round(LEFT + i * slot + slot / 2), label: shortDate(d.day) })),
  };
}

function viewOf(stats: DashboardStats) {
  const totals = (t: DashboardStats['todayTotals']) => ({ ...t, amountText: money(t.succeededAmount) });
  return {
    today: longDate(stats.today),
    weekStart: longDate(stats.weekStart),
    todayTotals: totals(stats.todayTotals),
    weekTotals: totals(stats.weekTotals),
    successRate: stats.successRate,
    hasRate: stats.successRate !== null,
    chart: chartOf(stats.days),
    firstDay: longDate(stats.days[0]!.day),
    rows: [...stats.days].reverse().map((d) => ({ ...d, date: longDate(d.day), amountText: money(d.succeededAmount) })),
  };
}

export function registerDashboardPages(app: HttpApp, kit: ConsoleKit): void {
  servicePage(app, kit, { method: 'GET', path: '', permission: 'dashboard:view' }, async ({ page }) =>
    page.render('dashboard.njk', { pageTitle: 'Dashboard', ...viewOf(await dashboardStats(kit.ctx, page.accountId)) }),
  );
}
