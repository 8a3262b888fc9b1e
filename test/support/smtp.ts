// A real SMTP server on loopback (the smtp-server package) that keeps every message it
// receives, so tests prove mail leaves Coffer over SMTP rather than stubbing the transport.
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import type { MailSettings } from '../../src/notifications/mailer.js';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The raw message (headers and body) as it came over the wire. */
  raw: string;
  subject: string;
}

export interface SmtpPeer {
  url: string;
  received: ReceivedMail[];
  /** Mail settings pointing Coffer at this server (assign to ctx.mail). */
  settings(from?: string): MailSettings;
  /** Refuses the next `count` messages with a 451 (temporary failure), to exercise retries. */
  refuseNext(count: number): void;
  close(): Promise<void>;
}

export async function startSmtpPeer(): Promise<SmtpPeer> {
  const received: ReceivedMail[] = [];
  let refusals = 0;
  const server = new SMTPServer({
    authOptional: true,
    // Plain SMTP on loopback: no certificate to trust in tests.
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (refusals > 0) {
          refusals -= 1;
          const err = new Error('try again later') as Error & { responseCode: number };
          err.responseCode = 451;
          callback(err);
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        const headers = raw.split(/\r?\n\r?\n/, 1)[0]?.replace(/\r?\n[ \t]+/g, ' ') ?? '';
        const subject = headers.split(/\r?\n/).find((line) => line.toLowerCase().startsWith('subject: '))?.slice(9) ?? '';
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          subject,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  const url = `smtp://127.0.0.1:${port}`;
  return {
    url,
    received,
    settings: (from = 'Coffer <coffer@example.org>') => ({ smtpUrl: `${url}/?ignoreTLS=true`, from }),
    refuseNext(count) {
      refusals = count;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
