// Structured JSON logs. Two layers keep secrets out: named credential fields are redacted,
// and every finished line is scrubbed of anything shaped like a card number, an API key or a
// credential header, whatever field it hid in, before it is written.
import { pino, type Logger, type DestinationStream } from 'pino';
import { looksLikeCardNumber, redactCardNumbers } from '../platform/card-numbers.js';

const API_KEY_PATTERN = /coffer_(test|live)_[0-9A-Za-z]{20,}/g;
const BEARER_PATTERN = /(Bearer\s+)[^\s"\\]+/gi;
// One-time tokens travel in URLs (the payer's next_url, console invites) and OAuth redirects
// carry codes in the query; request logs record URLs, so the token part is removed.
const URL_TOKEN_PATTERN = /(\/(?:secure|console\/invite)\/)[A-Za-z0-9_-]{16,}/g;
const QUERY_SECRET_PATTERN = /([?&](?:code|state|token|chargeTokenId)=)[^&\s"\\]+/g;
// Credential headers, at whatever depth a headers object was logged: the value (a string, or
// an array of strings for set-cookie) is replaced whatever its scheme (Basic, Token, cookies).
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key']);
// Alternatives are disjoint (a quote ends a string, a backslash starts an escape): linear time.
// eslint-disable-next-line security/detect-unsafe-regex
const CREDENTIAL_HEADER_VALUE = /"((?:proxy-)?authorization|cookie|set-cookie|x-api-key)":(?:"(?:[^"\\]|\\.)*"|\[(?:"(?:[^"\\]|\\.)*",?)*\])/gi;

function scrubText(text: string): string {
  return redactCardNumbers(text)
    .replace(API_KEY_PATTERN, 'coffer_$1_[REDACTED]')
    .replace(BEARER_PATTERN, '$1[REDACTED]')
    .replace(URL_TOKEN_PATTERN, '$1[REDACTED]')
    .replace(QUERY_SECRET_PATTERN, '$1[REDACTED]');
}

/**
 * Scrubs a finished line. A line with nothing to remove is written as it is (the common case,
 * and cheap). When a removal broke the JSON (a digit run inside a number, such as the fraction
 * of a response time), the line is scrubbed again value by value, so every line stays JSON:
 * strings and keys lose anything card- or key-like, and a number is removed when its whole
 * part looks like a card number (the fraction of a decimal is not a card number).
 */
export function scrubLine(line: string): string {
  const scrubbed = scrubText(line.replace(CREDENTIAL_HEADER_VALUE, '"$1":"[REDACTED]"'));
  if (scrubbed === line || isJson(scrubbed)) return scrubbed;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return scrubbed;
  }
  return `${JSON.stringify(scrubValue(parsed))}\n`;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function scrubValue(value: unknown): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (typeof value === 'number') return looksLikeCardNumber(String(Math.trunc(value))) ? '[REDACTED-PAN]' : value;
  if (Array.isArray(value)) return value.map(scrubValue);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [scrubText(k), CREDENTIAL_HEADERS.has(k.toLowerCase()) ? '[REDACTED]' : scrubValue(v)]),
    );
  }
  return value;
}

// Fastify logs a request's responseTime as a raw float (0.9662109999999302): below a millisecond
// its fraction is 16 digits, often Luhn-valid, so most lines under load were taken for ones
// holding a card number, then parsed and rewritten value by value. Microseconds are all it means.
function roundResponseTime(object: Record<string, unknown>): Record<string, unknown> {
  if (typeof object.responseTime === 'number') object.responseTime = Math.round(object.responseTime * 1000) / 1000;
  return object;
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'coffer' },
      // ISO time: an epoch-millisecond number is 13 digits and could pass as a card number.
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { log: roundResponseTime },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'req.headers["x-api-key"]',
          'res.headers["set-cookie"]',
          '*.password',
          '*.secret',
          '*.token',
          '*.apiKey',
          '*.cvc',
          '*.card_number',
        ],
        censor: '[REDACTED]',
      },
      hooks: { streamWrite: scrubLine },
    },
    destination,
  );
}
