// A webhook receiver that verifies Coffer's signatures, in both schemes, before trusting a
// byte of the body. Run it, then point a test-mode webhook at it:
//
//   COFFER_WEBHOOK_SECRET=whsec_... node --import tsx examples/webhook-receiver.ts
//   coffer webhook create --service svc_... --mode test --url http://127.0.0.1:4000/coffer
//   (and start Coffer with COFFER_WEBHOOKS_ALLOW_PRIVATE_NETWORKS=loopback, since it is local)
//
// In your own service, copy src/webhooks/verify.ts (it needs only node:crypto) or use any
// Standard Webhooks library: https://github.com/standard-webhooks/standard-webhooks
import { createServer, type Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { verifyPaySignature, verifyStandardWebhook } from '../src/webhooks/verify.js';

export interface ReceivedEvent {
  id: string;
  eventType: string;
  resourceId: string;
  body: Record<string, unknown>;
}

export interface ReceiverOptions {
  /** The endpoint's secrets: during a rotation, the new one and the old one. */
  secrets: string[];
  onEvent: (event: ReceivedEvent) => void;
  /** Verification time; the system clock unless a test pins it. */
  now?: () => Date;
}

export function createWebhookReceiver(options: ReceiverOptions): Server {
  // Delivery is at least once: remember what was handled, and acknowledge repeats without acting twice.
  const seen = new Set<string>();
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > 256 * 1024) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => {
      // 1. Verify the raw bytes, exactly as received: never re-serialised JSON.
      const raw = Buffer.concat(chunks);
      const standard = verifyStandardWebhook(raw, req.headers, options.secrets, { now: options.now?.() ?? new Date() });
      if (!standard.valid) {
        res.writeHead(400).end(standard.code);
        return;
      }
      // 2. Optionally also check GOV.UK Pay's Pay-Signature (a GOV.UK Pay receiver may check only this one;
      //    it carries no timestamp, so it gives no replay protection on its own).
      const paySignature = req.headers['pay-signature'];
      if (!verifyPaySignature(raw, typeof paySignature === 'string' ? paySignature : undefined, options.secrets)) {
        res.writeHead(400).end('BAD_PAY_SIGNATURE');
        return;
      }
      // 3. Only now parse and act. Answer 2xx quickly; do slow work after.
      res.writeHead(204).end();
      if (seen.has(standard.messageId)) return;
      seen.add(standard.messageId);
      const body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      options.onEvent({ id: standard.messageId, eventType: String(body.event_type), resourceId: String(body.resource_id), body });
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const secret = process.env.COFFER_WEBHOOK_SECRET;
  if (!secret) {
    console.error('Set COFFER_WEBHOOK_SECRET to the secret `coffer webhook create` printed.');
    process.exit(2);
  }
  const port = Number(process.env.PORT ?? 4000);
  createWebhookReceiver({
    secrets: secret.split(',').map((s) => s.trim()),
    onEvent: (event) => console.log(`${event.eventType} for payment ${event.resourceId} (message ${event.id})`),
  }).listen(port, '127.0.0.1', () => console.error(`Listening on http://127.0.0.1:${port}/coffer`));
}
