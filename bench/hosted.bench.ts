// `npm run bench:hosted`: complete payments per second through the hosted pages, on
// PostgreSQL, and the server time of each page. A journey is what a payer's browser does:
//   POST /v1/payments (the service, with its key)       → next_url
//   GET  /secure/{token}        token exchange           → 303 to the card page, session cookie
//   GET  /card_details/{id}     card page (CSRF token)
//   POST /card_details/{id}     card submit (authorises with the sandbox) → 303 to confirm
//   GET  /card_details/{id}/confirm   confirm page
//   POST /card_details/{id}/confirm   confirm → 303 to the service's return_url (not followed)
// over plain HTTP (fetch, cookies and redirects handled by hand), several journeys at once.
//
// Server time is the server's own: Fastify's responseTime from the "request completed" line of
// each request, which `coffer serve` logs at info, joined to its "incoming request" line by
// request id (bench/support.ts reads the server's log). Client time (the loopback round trip as
// this process sees it) is printed beside it.
//
// The card-testing defences would rightly stop a bench (10 authorisations an hour per client
// address, 5 per card per account): each journey comes from its own address (X-Forwarded-For,
// with 127.0.0.1 as the trusted proxy) and each test account is used for 25 journeys (five
// sandbox Visa cards, five times each); new accounts are made as the run goes, with the same
// operations as the CLI. Per-account API rate limits are lifted the same way.
//
// Settings: BENCH_DURATION (s of journeys, default 30), BENCH_WARMUP (s, default 5),
// BENCH_CONCURRENCY (journeys at once, default 8); PostgreSQL as in bench/payments.bench.ts.
import { performance } from 'node:perf_hooks';
import { cpuSeconds, loadNow, main, operatorFor, percentile, scratchDatabase, setting, startCoffer } from './support.js';

const duration = setting('BENCH_DURATION', 30);
const warmup = setting('BENCH_WARMUP', 5);
const concurrency = setting('BENCH_CONCURRENCY', 8);
// Sandbox Visa cards that authorise, with no surcharge or 3-D Secure step (src/connectors/sandbox).
const CARDS = ['4444333322221111', '4242424242424242', '4000056655665556', '4917610000000000003', '4000020000000000'];
const USES_PER_CARD = 5;

const STEPS = ['create', 'token exchange', 'card page', 'card submit', 'confirm page', 'confirm submit'] as const;
type Step = (typeof STEPS)[number];
const LABELS: Record<Step, string> = {
  create: 'POST /v1/payments',
  'token exchange': 'GET /secure/{token}',
  'card page': 'GET /card_details/{id}',
  'card submit': 'POST /card_details/{id}',
  'confirm page': 'GET /card_details/{id}/confirm',
  'confirm submit': 'POST /card_details/{id}/confirm',
};

function stepOf(method: string, url: string): Step | undefined {
  const path = url.split('?')[0] ?? '';
  if (path === '/v1/payments') return method === 'POST' ? 'create' : undefined;
  if (path.startsWith('/secure/')) return 'token exchange';
  if (/^\/card_details\/[a-z0-9]+\/confirm$/.test(path)) return method === 'GET' ? 'confirm page' : 'confirm submit';
  if (/^\/card_details\/[a-z0-9]+$/.test(path)) return method === 'GET' ? 'card page' : 'card submit';
  return undefined;
}

/** Server times by step, from the server's request log; `recording` is off during the warm-up. */
class ServerTimes {
  recording = false;
  readonly times = new Map<Step, number[]>(STEPS.map((s) => [s, []]));
  private readonly open = new Map<string, Step>();

  onLog = (line: Record<string, unknown>): void => {
    const id = line.request_id;
    if (typeof id !== 'string') return;
    if (line.msg === 'incoming request') {
      const req = line.req as { method?: string; url?: string } | undefined;
      const step = stepOf(req?.method ?? '', req?.url ?? '');
      if (step) this.open.set(id, step);
    } else if (line.msg === 'request completed') {
      const step = this.open.get(id);
      this.open.delete(id);
      if (step && this.recording && typeof line.responseTime === 'number') this.times.get(step)!.push(line.responseTime);
    }
  };
}

/** A payer's browser: a cookie jar, its own client address, redirects not followed. */
class Browser {
  private readonly cookies = new Map<string, string>();
  constructor(
    private readonly base: string,
    private readonly ip: string,
  ) {}

  async send(method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<{ status: number; location: string | null; html: string }> {
    const headers: Record<string, string> = { 'x-forwarded-for': this.ip, 'user-agent': 'coffer-bench' };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(this.base + path, { method, headers, redirect: 'manual', ...(form ? { body: new URLSearchParams(form).toString() } : {}) });
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';')[0] ?? '';
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1);
      if (value === '' || /max-age=0|expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(pair.slice(0, eq));
      else this.cookies.set(pair.slice(0, eq), value);
    }
    return { status: response.status, location: response.headers.get('location'), html: await response.text() };
  }
}

function csrfOf(html: string): string {
  const match = /name="csrf_token" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('page has no CSRF token');
  return match[1]!;
}

function expect(step: Step, got: { status: number; html: string }, status: number): void {
  if (got.status !== status) throw new Error(`${LABELS[step]} answered ${got.status}, expected ${status}: ${got.html.slice(0, 300)}`);
}

interface Slot {
  key: string;
  card: string;
}

main(async () => {
  const database = await scratchDatabase();
  const times = new ServerTimes();
  const coffer = await startCoffer({ databaseUrl: database.url, logLevel: 'info', env: { COFFER_TRUSTED_PROXIES: '127.0.0.1' }, onLog: times.onLog }).catch(async (err: unknown) => {
    await database.drop();
    throw err;
  });
  const operator = await operatorFor(coffer);
  try {
    // Journey slots: each test account gives 25 (five cards, five uses each); accounts are
    // made ahead, in the background, so a journey never waits for one.
    const slots: Slot[] = [];
    let making: Promise<void> | undefined;
    const makeAccount = async () => {
      const service = (await operator.operate('service.create', { name: 'Hosted bench' })) as { id: string };
      const key = (await operator.operate('key.create', { serviceId: service.id, mode: 'test', name: 'bench', scopes: [] })) as { token: string };
      await operator.operate('payments.set', { serviceId: service.id, mode: 'test', rateLimitCreate: 1_000_000, rateLimitPost: 1_000_000, rateLimitGet: 1_000_000 });
      for (let use = 0; use < USES_PER_CARD; use++) for (const card of CARDS) slots.push({ key: key.token, card });
    };
    const takeSlot = async (): Promise<Slot> => {
      while (slots.length === 0) await (making ??= makeAccount().finally(() => (making = undefined)));
      if (slots.length < concurrency * 2 && !making) making = makeAccount().finally(() => (making = undefined));
      return slots.shift()!;
    };

    let journeyNo = 0;
    const clientTimes = new Map<Step, number[]>(STEPS.map((s) => [s, []]));
    const timed = async <T>(step: Step, record: boolean, call: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      const result = await call();
      if (record) clientTimes.get(step)!.push(performance.now() - started);
      return result;
    };

    const journey = async (record: boolean): Promise<void> => {
      const n = journeyNo++;
      const slot = await takeSlot();
      const ip = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
      const created = await timed('create', record, async () => {
        const response = await fetch(`${coffer.url}/v1/payments`, {
          method: 'POST',
          headers: { authorization: `Bearer ${slot.key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ amount: 1250, reference: `BENCH-${n}`, description: 'Hosted bench', return_url: 'https://service.example.org/return' }),
        });
        const body = (await response.json()) as { payment_id: string; _links: { next_url: { href: string } } };
        if (response.status !== 201) throw new Error(`POST /v1/payments answered ${response.status}: ${JSON.stringify(body)}`);
        return body;
      });
      const id = created.payment_id;
      const browser = new Browser(coffer.url, ip);
      const exchanged = await timed('token exchange', record, () => browser.send('GET', new URL(created._links.next_url.href).pathname));
      expect('token exchange', exchanged, 303);
      const cardPage = await timed('card page', record, () => browser.send('GET', `/card_details/${id}`));
      expect('card page', cardPage, 200);
      const submitted = await timed('card submit', record, () =>
        browser.send('POST', `/card_details/${id}`, {
          csrf_token: csrfOf(cardPage.html),
          cardNo: slot.card,
          expiryMonth: '12',
          expiryYear: '30',
          cardholderName: 'Ms Bench Payer',
          cvc: '123',
          addressLine1: '1 Test Street',
          addressLine2: '',
          addressCity: 'Cardiff',
          addressPostcode: 'CF10 1AA',
          addressCountry: 'GB',
          email: 'payer@example.org',
        }),
      );
      expect('card submit', submitted, 303);
      if (submitted.location !== `/card_details/${id}/confirm`) throw new Error(`card submit went to ${submitted.location}: ${submitted.html.slice(0, 300)}`);
      const confirmPage = await timed('confirm page', record, () => browser.send('GET', `/card_details/${id}/confirm`));
      expect('confirm page', confirmPage, 200);
      const confirmed = await timed('confirm submit', record, () => browser.send('POST', `/card_details/${id}/confirm`, { csrf_token: csrfOf(confirmPage.html) }));
      expect('confirm submit', confirmed, 303);
      if (confirmed.location !== 'https://service.example.org/return') throw new Error(`confirm went to ${confirmed.location}`);
    };

    /** `concurrency` payers, each starting a new journey as soon as theirs ends, for `seconds`. */
    const drive = async (seconds: number, record: boolean): Promise<{ journeys: number; seconds: number }> => {
      const started = performance.now();
      const until = started + seconds * 1000;
      let done = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < until) {
            await journey(record);
            done++;
          }
        }),
      );
      return { journeys: done, seconds: (performance.now() - started) / 1000 };
    };

    console.error(`Warming up (${warmup} s), then ${duration} s of journeys, ${concurrency} at once, PostgreSQL…`);
    await drive(warmup, false);
    // Wait for the warm-up's last log lines, then record.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = loadNow();
    times.recording = true;
    const cpuBefore = cpuSeconds(coffer.pid);
    const result = await drive(duration, true);
    const cpuPerJourney = ((cpuSeconds(coffer.pid) - cpuBefore) * 1000) / result.journeys;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    times.recording = false;

    const fmt = (ms: number) => `${ms.toFixed(1)} ms`.padStart(10);
    console.log(`store: postgres; ${concurrency} journeys at once; ${duration} s; ${before} (before), ${loadNow()} (after)`);
    console.log(
      `complete payments: ${result.journeys} in ${result.seconds.toFixed(1)} s = ${(result.journeys / result.seconds).toFixed(1)} per second; ` +
        `server CPU ${Number.isNaN(cpuPerJourney) ? '-' : `${cpuPerJourney.toFixed(1)} ms`} per payment`,
    );
    console.log(`${'page'.padEnd(32)} ${'server p50'.padStart(10)} ${'server p99'.padStart(10)} ${'client p99'.padStart(10)} ${'n'.padStart(6)}`);
    for (const step of STEPS) {
      const server = [...times.times.get(step)!].sort((a, b) => a - b);
      const client = [...clientTimes.get(step)!].sort((a, b) => a - b);
      console.log(`${LABELS[step].padEnd(32)} ${fmt(percentile(server, 50))} ${fmt(percentile(server, 99))} ${fmt(percentile(client, 99))} ${String(server.length).padStart(6)}`);
    }
  } finally {
    await operator.close();
    await coffer.stop();
    await database.drop();
  }
});
