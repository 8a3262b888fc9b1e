// Configuration from the environment: the only module that reads process.env. Every problem
// is reported at once, one clear line each, before anything starts.
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { MASTER_KEY_BYTES } from '../platform/encryption.js';
import { parseCidr } from '../platform/networks.js';
import type { ConsolePolicy } from '../platform/context.js';
import { parseDuration } from '../platform/duration.js';
import { parseNetworkExceptions } from '../webhooks/address-guard.js';
import { DEFAULT_MAIL_FROM } from '../notifications/mailer.js';
import { parseDetectorOverrides, type AlertSettings } from '../alerts/alert.settings.js';
import { checkGeoIpDatabase } from '../alerts/geoip.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const YEAR_MS = 365 * 86_400_000;

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const PORT_RULE = 'must be a whole number from 0 to 65535 (0 picks a free port)';
const port = optionalText
  .pipe(z.string().regex(/^\d{1,5}$/, PORT_RULE).optional())
  .transform((v) => (v === undefined ? 3000 : Number(v)))
  .pipe(z.number().max(65535, PORT_RULE));

const envSchema = z.object({
  PORT: port,
  HOST: optionalText.transform((v) => v ?? '127.0.0.1'),
  COFFER_BASE_URL: optionalText.pipe(z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional()),
  DATABASE_URL: optionalText.pipe(
    z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL').optional(),
  ),
  REDIS_URL: optionalText.pipe(
    z
      .string()
      .regex(/^rediss?:\/\/[^/]/, 'must be a redis:// or rediss:// URL')
      .refine(isRedisUrl, 'must be a redis:// or rediss:// URL with a host, and a database number as its path if any (redis://host:6379/0)')
      .optional(),
  ),
  COFFER_DATA_DIR: optionalText.transform((v) => v ?? './.coffer'),
  COFFER_MASTER_KEY: optionalText,
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  COFFER_TLS_CERT: optionalText,
  COFFER_TLS_KEY: optionalText,
  COFFER_TLS_MIN_VERSION: z.enum(['1.2', '1.3'], { error: 'must be 1.2 or 1.3' }).default('1.2'),
  COFFER_TRUSTED_PROXIES: optionalText,
  COFFER_SECURITY_CONTACT: z.string().default('mailto:security@coffer.invalid'),
  COFFER_SECURITY_TXT_EXPIRES: optionalText,
  COFFER_CONSOLE_IDLE_TIMEOUT: z.string().default('15m'),
  COFFER_CONSOLE_SESSION_LIFETIME: z.string().default('12h'),
  COFFER_CONSOLE_DISABLE_INACTIVE_AFTER: z.string().default('90d'),
  COFFER_METRICS_TOKEN: optionalText,
  COFFER_AUDIT_RETENTION: optionalText,
  COFFER_AUDIT_CHECKPOINT_INTERVAL: optionalText,
  COFFER_WEBHOOKS_TIMEOUT: optionalText,
  COFFER_WEBHOOKS_ALLOW_PRIVATE_NETWORKS: optionalText,
  COFFER_SMTP_URL: optionalText.pipe(z.string().regex(/^smtps?:\/\/[^/]/, 'must be an smtp:// or smtps:// URL').optional()),
  COFFER_MAIL_FROM: optionalText,
  COFFER_ALERT_THRESHOLDS: optionalText,
  COFFER_GEOIP_DB: optionalText,
});

export interface Config {
  port: number;
  host: string;
  baseUrl: string;
  databaseUrl: string | undefined;
  /** Optional Redis for state every node shares and that changes on every request (rate-limit counts). */
  redisUrl: string | undefined;
  dataDir: string;
  masterKey: MasterKeySetting;
  logLevel: (typeof LOG_LEVELS)[number];
  tls: { certFile: string; keyFile: string; minVersion: 'TLSv1.2' | 'TLSv1.3' } | undefined;
  trustedProxies: string[];
  securityTxt: { contact: string; expires: Date | undefined };
  /** Console sessions and accounts: idle timeout, absolute lifetime, inactivity before disabling. */
  console: ConsolePolicy;
  /** Bearer token for GET /metrics; unset, /metrics answers 404. */
  metricsToken: string | undefined;
  /** Audit log retention (default 365 days, PCI DSS 10.5.1) and how often checkpoints are signed. */
  audit: { retentionMs: number; checkpointIntervalMs: number };
  /** Webhook delivery: attempt deadline, and ranges test endpoints may reach (never live ones). */
  webhooks: { timeoutMs: number; allowPrivateNetworks: string[] };
  /** Outgoing email: SMTP server URL (unset: no email) and the From: header. */
  mail: { smtpUrl: string | undefined; from: string };
  /** Detector thresholds and windows that differ from the documented defaults (docs/alerts.md). */
  alerts: AlertSettings;
}

/** The master key as configured: given in the environment, or to be taken from the data dir. */
export type MasterKeySetting = { source: 'env'; key: Buffer } | { source: 'data-dir' };

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ConfigResult {
  // Each variable on its own, so that one bad value does not hide the problems of the others:
  // a variable that fails is left unset, and the checks below still run (and return problems).
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(envSchema.shape)) {
    const result = (schema as z.ZodType).safeParse(env[name]);
    if (result.success) values[name] = result.data;
    else problems.push(...result.error.issues.map((i) => `${name}: ${i.message}`));
  }
  const e = values as z.infer<typeof envSchema>;

  let masterKey: MasterKeySetting = { source: 'data-dir' };
  if (e.COFFER_MASTER_KEY !== undefined) {
    const key = decodeMasterKey(e.COFFER_MASTER_KEY);
    if (key) masterKey = { source: 'env', key };
    else problems.push(`COFFER_MASTER_KEY: must be ${MASTER_KEY_BYTES} random bytes in base64 (try: openssl rand -base64 32)`);
  } else if (e.DATABASE_URL !== undefined) {
    problems.push('COFFER_MASTER_KEY: required with DATABASE_URL, so that every node shares it (try: openssl rand -base64 32)');
  }

  let tls: Config['tls'];
  if ((e.COFFER_TLS_CERT === undefined) !== (e.COFFER_TLS_KEY === undefined)) {
    problems.push('COFFER_TLS_CERT and COFFER_TLS_KEY: set both or neither');
  } else if (e.COFFER_TLS_CERT !== undefined && e.COFFER_TLS_KEY !== undefined) {
    for (const [name, file] of [['COFFER_TLS_CERT', e.COFFER_TLS_CERT], ['COFFER_TLS_KEY', e.COFFER_TLS_KEY]] as const) {
      if (!existsSync(file)) problems.push(`${name}: no file at ${file}`);
    }
    tls = { certFile: e.COFFER_TLS_CERT, keyFile: e.COFFER_TLS_KEY, minVersion: e.COFFER_TLS_MIN_VERSION === '1.3' ? 'TLSv1.3' : 'TLSv1.2' };
  }

  const trustedProxies = (e.COFFER_TRUSTED_PROXIES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const proxy of trustedProxies) {
    if (!parseCidr(proxy)) problems.push(`COFFER_TRUSTED_PROXIES: "${proxy}" is not an IP address or CIDR range`);
  }

  let expires: Date | undefined;
  if (e.COFFER_SECURITY_TXT_EXPIRES !== undefined) {
    expires = new Date(e.COFFER_SECURITY_TXT_EXPIRES);
    if (Number.isNaN(expires.getTime())) problems.push('COFFER_SECURITY_TXT_EXPIRES: must be an ISO 8601 date');
    else if (expires.getTime() - Date.now() > YEAR_MS) problems.push('COFFER_SECURITY_TXT_EXPIRES: must be less than a year ahead (RFC 9116)');
    else if (expires.getTime() < Date.now()) problems.push('COFFER_SECURITY_TXT_EXPIRES: is in the past');
  }
  if (!/^(mailto:|https:\/\/|tel:)/.test(e.COFFER_SECURITY_CONTACT)) {
    problems.push('COFFER_SECURITY_CONTACT: must be a mailto:, https:// or tel: URI');
  }

  const webhookTimeoutMs = e.COFFER_WEBHOOKS_TIMEOUT === undefined ? 10_000 : parseDuration(e.COFFER_WEBHOOKS_TIMEOUT);
  if (webhookTimeoutMs === undefined || webhookTimeoutMs < 1000 || webhookTimeoutMs > 60_000) {
    problems.push('COFFER_WEBHOOKS_TIMEOUT: must be between 1s and 60s, e.g. 10s');
  }
  const allowPrivateNetworks = (e.COFFER_WEBHOOKS_ALLOW_PRIVATE_NETWORKS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of parseNetworkExceptions(allowPrivateNetworks).problems) {
    problems.push(`COFFER_WEBHOOKS_ALLOW_PRIVATE_NETWORKS: "${item}" is neither a range name (loopback, private, linkLocal, uniqueLocal, carrierGradeNat) nor a CIDR`);
  }

  if (e.COFFER_METRICS_TOKEN !== undefined && e.COFFER_METRICS_TOKEN.length < 24) {
    problems.push('COFFER_METRICS_TOKEN: must be at least 24 characters (try: openssl rand -base64 32)');
  }
  const auditRetentionMs = e.COFFER_AUDIT_RETENTION === undefined ? 365 * 86_400_000 : parseDuration(e.COFFER_AUDIT_RETENTION);
  if (auditRetentionMs === undefined || auditRetentionMs < 86_400_000) {
    problems.push('COFFER_AUDIT_RETENTION: must be a duration of at least 1d, e.g. 365d (PCI DSS asks for at least 12 months)');
  }
  const auditCheckpointMs = e.COFFER_AUDIT_CHECKPOINT_INTERVAL === undefined ? 15 * 60_000 : parseDuration(e.COFFER_AUDIT_CHECKPOINT_INTERVAL);
  if (auditCheckpointMs === undefined || auditCheckpointMs < 60_000 || auditCheckpointMs > 86_400_000) {
    problems.push('COFFER_AUDIT_CHECKPOINT_INTERVAL: must be between 1m and 24h, e.g. 15m');
  }

  // PCI DSS 8.2.8 caps the idle timeout at 15 minutes and 8.2.6 inactivity at 90 days.
  const idleTimeoutMs = parseDuration(e.COFFER_CONSOLE_IDLE_TIMEOUT);
  if (idleTimeoutMs === undefined || idleTimeoutMs < 1000 || idleTimeoutMs > 15 * 60_000) {
    problems.push('COFFER_CONSOLE_IDLE_TIMEOUT: must be between 1s and 15m, e.g. 15m');
  }
  const absoluteLifetimeMs = parseDuration(e.COFFER_CONSOLE_SESSION_LIFETIME);
  if (absoluteLifetimeMs === undefined || absoluteLifetimeMs < 60_000 || absoluteLifetimeMs > 24 * 3_600_000) {
    problems.push('COFFER_CONSOLE_SESSION_LIFETIME: must be between 1m and 24h, e.g. 12h');
  }
  const inactiveDisableAfterMs = parseDuration(e.COFFER_CONSOLE_DISABLE_INACTIVE_AFTER);
  if (inactiveDisableAfterMs === undefined || inactiveDisableAfterMs > 90 * 86_400_000) {
    problems.push('COFFER_CONSOLE_DISABLE_INACTIVE_AFTER: must be at most 90d (or 0 to turn it off), e.g. 90d');
  }

  const alertOverrides = parseDetectorOverrides(e.COFFER_ALERT_THRESHOLDS ?? '');
  for (const problem of alertOverrides.problems) problems.push(`COFFER_ALERT_THRESHOLDS: ${problem}`);
  const geoIpProblem = e.COFFER_GEOIP_DB !== undefined ? checkGeoIpDatabase(e.COFFER_GEOIP_DB) : undefined;
  if (geoIpProblem) problems.push(`COFFER_GEOIP_DB: ${geoIpProblem} (give an MMDB country database, or off)`);

  if (problems.length > 0) return { ok: false, problems };
  const scheme = tls ? 'https' : 'http';
  return {
    ok: true,
    config: {
      port: e.PORT,
      host: e.HOST,
      baseUrl: (e.COFFER_BASE_URL ?? `${scheme}://${e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST}:${e.PORT}`).replace(/\/+$/, ''),
      databaseUrl: e.DATABASE_URL,
      redisUrl: e.REDIS_URL,
      dataDir: resolve(e.COFFER_DATA_DIR),
      masterKey,
      logLevel: e.LOG_LEVEL,
      tls,
      trustedProxies,
      securityTxt: { contact: e.COFFER_SECURITY_CONTACT, expires },
      console: { idleTimeoutMs: idleTimeoutMs ?? 0, absoluteLifetimeMs: absoluteLifetimeMs ?? 0, inactiveDisableAfterMs: inactiveDisableAfterMs ?? 0 },
      metricsToken: e.COFFER_METRICS_TOKEN,
      audit: { retentionMs: auditRetentionMs ?? 365 * 86_400_000, checkpointIntervalMs: auditCheckpointMs ?? 15 * 60_000 },
      webhooks: { timeoutMs: webhookTimeoutMs ?? 10_000, allowPrivateNetworks },
      mail: { smtpUrl: e.COFFER_SMTP_URL, from: e.COFFER_MAIL_FROM ?? DEFAULT_MAIL_FROM },
      alerts: { detectors: alertOverrides.detectors, geoIpDatabase: e.COFFER_GEOIP_DB },
    },
  };
}

function isRedisUrl(text: string): boolean {
  try {
    const url = new URL(text);
    const path = url.pathname;
    return url.hostname !== '' && (path === '' || path === '/' || /^\/\d{1,2}$/.test(path));
  } catch {
    return false;
  }
}

function decodeMasterKey(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  const key = Buffer.from(text, 'base64');
  return key.length === MASTER_KEY_BYTES ? key : undefined;
}

/**
 * The embedded sandbox needs no setup: without COFFER_MASTER_KEY a key is generated into the
 * data directory (readable by the owner only) and the caller warns. Live accounts refuse it.
 */
export function resolveMasterKey(config: Config): { key: Buffer; generated: boolean; file?: string } {
  if (config.masterKey.source === 'env') return { key: config.masterKey.key, generated: false };
  const file = join(config.dataDir, 'master.key');
  if (existsSync(file)) {
    const key = decodeMasterKey(readFileSync(file, 'utf8').trim());
    if (!key) throw new TypeError(`${file} does not hold a valid master key`);
    return { key, generated: false, file };
  }
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(MASTER_KEY_BYTES);
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return { key, generated: true, file };
}
