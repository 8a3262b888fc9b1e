// Outgoing email through SMTP (nodemailer). The transport comes from the context, built once
// from COFFER_SMTP_URL, so tests point it at their own SMTP server by setting ctx.mail. A
// failure is an outcome the caller retries (alert outbox, invites), never a thrown error; the
// message text is never logged, since it may carry a one-time link.
import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import type { AppContext } from '../platform/context.js';

export interface MailSettings {
  /** smtp://user:pass@host:587 (STARTTLS when offered) or smtps://host:465; unset, no mail is sent. */
  smtpUrl?: string;
  /** The From: header, e.g. "Coffer <coffer@pay.example.org>". */
  from: string;
  /** A ready transport; built from smtpUrl when absent (tests may hand one in). */
  transport?: Transporter;
}

export interface MailMessage {
  to: string | string[];
  subject: string;
  text: string;
}

export type MailOutcome =
  | { sent: true; messageId: string; accepted: string[] }
  | { sent: false; reason: 'not_configured' }
  | { sent: false; reason: 'failed'; error: string };

export const DEFAULT_MAIL_FROM = 'Coffer <coffer@localhost>';

// One transport per settings object: nodemailer keeps connections and parses the URL once.
const transports = new WeakMap<MailSettings, Transporter>();

function transportFor(settings: MailSettings): Transporter | undefined {
  if (settings.transport) return settings.transport;
  if (!settings.smtpUrl) return undefined;
  let transport = transports.get(settings);
  if (!transport) {
    transport = nodemailer.createTransport(settings.smtpUrl);
    transports.set(settings, transport);
  }
  return transport;
}

/** True when this Coffer can send email at all (COFFER_SMTP_URL set, or a transport given). */
export function mailConfigured(ctx: AppContext): boolean {
  return Boolean(ctx.mail && transportFor(ctx.mail));
}

/** Sends one plain-text message; the outcome says whether the SMTP server accepted it. */
export async function sendMail(ctx: AppContext, message: MailMessage): Promise<MailOutcome> {
  const settings = ctx.mail;
  const transport = settings ? transportFor(settings) : undefined;
  if (!settings || !transport) return { sent: false, reason: 'not_configured' };
  try {
    const info = (await transport.sendMail({ from: settings.from, to: message.to, subject: message.subject, text: message.text })) as {
      messageId?: string;
      accepted?: (string | { address: string })[];
    };
    const accepted = (info.accepted ?? []).map((a) => (typeof a === 'string' ? a : a.address));
    return { sent: true, messageId: info.messageId ?? '', accepted };
  } catch (err) {
    // SMTP error text names the server's complaint (mailbox full, relay refused), not our secrets.
    const error = err instanceof Error ? err.message.slice(0, 500) : 'unknown error';
    ctx.log.warn({ subject: message.subject, error }, 'email not sent');
    return { sent: false, reason: 'failed', error };
  }
}
