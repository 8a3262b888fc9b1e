// Prometheus metrics, one registry per running Coffer (tests run several in one process).
// Counters are updated as things happen (requests, key verifications); figures that live in
// the database (payments by state, webhook backlog, alerts) are read when /metrics is scraped,
// by sources each domain registers, so a scrape always reports the truth and costs the
// request path nothing.
import type { Kysely } from 'kysely';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../store/schema.js';

/** A figure read from the store at scrape time: one gauge, its help and labels, and how to read it. */
export interface MetricSource {
  name: string;
  help: string;
  labelNames: readonly string[];
  read(db: Kysely<Database>): Promise<{ labels: Record<string, string>; value: number }[]>;
}

const sources: MetricSource[] = [];

/** Domains add their database-backed figures here (payments by state, webhook backlog …). */
export function registerMetricSource(source: MetricSource): void {
  if (sources.some((s) => s.name === source.name)) return;
  sources.push(source);
}

export class CofferMetrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly keyVerifications: Counter<'outcome'>;
  readonly auditQueue: Gauge;
  readonly rateLimitFallbacks: Counter;
  readonly redisConnected: Gauge;

  constructor(private readonly db: Kysely<Database>) {
    const registers = [this.registry];
    this.httpRequests = new Counter({ name: 'coffer_http_requests_total', help: 'HTTP requests by route template, method and status', labelNames: ['method', 'route', 'status'], registers });
    this.httpDuration = new Histogram({
      name: 'coffer_http_request_duration_seconds',
      help: 'HTTP request latency by route template and method',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.keyVerifications = new Counter({ name: 'coffer_key_verifications_total', help: 'API key verifications by outcome (VALID, MISSING, NOT_FOUND, REVOKED, EXPIRED, IP_NOT_ALLOWED, …)', labelNames: ['outcome'], registers });
    this.auditQueue = new Gauge({ name: 'coffer_audit_queue_entries', help: 'Request audit entries waiting to be written', registers });
    this.rateLimitFallbacks = new Counter({ name: 'coffer_rate_limit_redis_fallbacks_total', help: 'Requests whose rate-limit count went to PostgreSQL because Redis could not be reached', registers });
    this.redisConnected = new Gauge({ name: 'coffer_redis_connected', help: '1 while the Redis of REDIS_URL is connected, otherwise 0', registers });
    collectDefaultMetrics({ register: this.registry, prefix: 'coffer_' });
  }

  /** The exposition text, with the database-backed figures read now. */
  async render(): Promise<string> {
    const extra = new Registry();
    for (const source of sources) {
      const gauge = new Gauge({ name: source.name, help: source.help, labelNames: [...source.labelNames], registers: [extra] });
      try {
        for (const { labels, value } of await source.read(this.db)) gauge.set(labels, value);
      } catch {
        // A domain whose tables are not there yet (or a failing query) must not break the scrape.
        extra.removeSingleMetric(source.name);
      }
    }
    const merged = Registry.merge([this.registry, extra]);
    return merged.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

const all = new WeakMap<object, CofferMetrics>();

/** The metrics of one running Coffer, keyed by its context. */
export function metricsFor(ctx: { db: Kysely<Database> }): CofferMetrics {
  let metrics = all.get(ctx.db);
  if (!metrics) {
    metrics = new CofferMetrics(ctx.db);
    all.set(ctx.db, metrics);
  }
  return metrics;
}
