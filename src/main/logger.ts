// Structured JSON logs. Two layers keep secrets out: named credential fields are redacted,
// and every finished line is scrubbed of anything shaped like a card number or an API key,
// whatever field it hid in, before it is written.
import { pino, type Logger, type DestinationStream } from 'pino';
import { redactCardNumbers } from '../platform/card-numbers.js';

const API_KEY_PATTERN = /coffer_(test|live)_[0-9A-Za-z]{20,}/g;
const BEARER_PATTERN = /(Bearer\s+)[^\s"\\]+/gi;

export function scrubLine(line: string): string {
  return redactCardNumbers(line).replace(API_KEY_PATTERN, 'coffer_$1_[REDACTED]').replace(BEARER_PATTERN, '$1[REDACTED]');
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'coffer' },
      // ISO time: an epoch-millisecond number is 13 digits and could pass as a card number.
      timestamp: pino.stdTimeFunctions.isoTime,
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
