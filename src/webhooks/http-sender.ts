// Sends one webhook POST. The connection goes to the address the SSRF guard judged (the lookup
// hook hands it over, so Node never resolves the name again), TLS is verified against the URL's
// host name with TLS 1.2 at least, redirects are never followed, one deadline covers connecting,
// the response and reading at most a few KB of its body, and no connection is pooled.
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { BlockedAddressError, hostOf, resolveTarget, type HostResolver, type NetworkExceptions } from './address-guard.js';

export const MAX_RESPONSE_BYTES = 4096;

export interface SendRequest {
  url: URL;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  resolver: HostResolver;
  exceptions: NetworkExceptions;
}

export interface SendOutcome {
  ok: boolean;
  statusCode: number | null;
  /** What went wrong, in words an operator can act on; null on success. */
  error: string | null;
  /** The address connected to (or refused). */
  address: string | null;
  /** The response's Retry-After header, if any, as sent. */
  retryAfter: string | null;
  durationMs: number;
  /** The endpoint said it is gone (410): Standard Webhooks says stop sending. */
  gone: boolean;
}

export async function sendWebhook(request: SendRequest): Promise<SendOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const failure = (error: string, address: string | null): SendOutcome => ({
    ok: false,
    statusCode: null,
    error,
    address,
    retryAfter: null,
    durationMs: elapsed(),
    gone: false,
  });

  let target;
  try {
    target = await resolveTarget(request.url, request.resolver, request.exceptions);
  } catch (err) {
    if (err instanceof BlockedAddressError) return failure(`refused: ${err.message}`, err.address);
    return failure(`could not resolve ${hostOf(request.url)}: ${describeError(err)}`, null);
  }

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), request.timeoutMs);
  try {
    const response = await post(request, target.address, target.family, controller.signal);
    const status = response.statusCode;
    const retryAfter = response.retryAfter;
    const base = { statusCode: status, address: target.address, retryAfter, durationMs: elapsed(), gone: status === 410 };
    if (status >= 200 && status < 300) return { ...base, ok: true, error: null };
    if (status >= 300 && status < 400) return { ...base, ok: false, error: `redirect (${status}) not followed: webhook URLs must answer directly` };
    return { ...base, ok: false, error: `HTTP ${status}` };
  } catch (err) {
    if (controller.signal.aborted) return failure(`timed out after ${request.timeoutMs} ms`, target.address);
    return failure(describeError(err), target.address);
  } finally {
    clearTimeout(timer);
  }
}

function post(
  request: SendRequest,
  address: string,
  family: 4 | 6,
  signal: AbortSignal,
): Promise<{ statusCode: number; retryAfter: string | null }> {
  const { url } = request;
  const host = hostOf(url);
  // Hands Node the checked address instead of letting it resolve the name again.
  const pinned = ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as LookupFunction;
  const options: https.RequestOptions = {
    method: 'POST',
    host: isIP(host) ? address : host,
    port: url.port === '' ? undefined : Number(url.port),
    path: `${url.pathname}${url.search}`,
    headers: {
      ...request.headers,
      'content-length': String(Buffer.byteLength(request.body, 'utf8')),
      'user-agent': 'Coffer-Webhooks/1',
      host: url.host,
    },
    lookup: pinned,
    agent: false,
    signal,
    maxHeaderSize: 16 * 1024,
  };
  if (url.protocol === 'https:') {
    options.minVersion = 'TLSv1.2';
    options.rejectUnauthorized = true;
    if (isIP(host) === 0) options.servername = host;
  }
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(options, (res) => {
      const statusCode = res.statusCode ?? 0;
      const header = res.headers['retry-after'];
      const retryAfter = typeof header === 'string' ? header : null;
      let read = 0;
      const finish = () => resolve({ statusCode, retryAfter });
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= MAX_RESPONSE_BYTES) {
          res.destroy();
          finish();
        }
      });
      res.on('end', finish);
      res.on('error', (err) => (signal.aborted ? reject(err) : finish()));
      res.on('close', finish);
    });
    req.on('error', reject);
    req.end(request.body);
  });
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return 'unknown error';
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_HAS_EXPIRED':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `TLS certificate not accepted (${code})`;
    default:
      return code ? `${code}: ${err.message}` : err.message;
  }
}
