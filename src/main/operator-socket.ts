// The operator socket: a Unix socket in the data directory (owner-only), through which CLI
// commands reach a running `coffer serve` that holds the embedded store. It runs the same
// named operations as a direct CLI call. File permissions are its authentication: whoever
// can open it can already read the data directory.
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AppContext } from '../platform/context.js';
import { CofferError } from '../platform/errors.js';
import { runOperation } from './operations.js';

const MAX_BODY = 64 * 1024;

export async function startOperatorSocket(ctx: AppContext, path: string): Promise<Server> {
  if (existsSync(path)) unlinkSync(path);
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > MAX_BODY) req.destroy();
    });
    req.on('end', () => {
      void (async () => {
        const reply = (status: number, value: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(value));
        };
        try {
          const { operation, args, actor } = JSON.parse(body) as { operation: string; args: Record<string, unknown>; actor: string };
          reply(200, { result: await runOperation(ctx, operation, args ?? {}, String(actor)) });
        } catch (err) {
          if (err instanceof CofferError) {
            reply(400, { error: { code: err.code, status: err.status, description: err.message, field: err.field } });
          } else {
            ctx.log.error({ err }, 'operator command failed');
            reply(500, { error: { code: 'C0500', status: 500, description: 'The operation failed; see the server log.' } });
          }
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  return server;
}

export function callOperatorSocket(path: string, operation: string, args: Record<string, unknown>, actor: string): Promise<unknown> {
  const payload = JSON.stringify({ operation, args, actor });
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: path, method: 'POST', path: '/operations', headers: { 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        try {
          const parsed = JSON.parse(body) as { result?: unknown; error?: { code: string; status: number; description: string; field?: string } };
          if (parsed.error) {
            const e = parsed.error;
            reject(new CofferError(e.code, e.status, e.description, e.field === undefined ? {} : { field: e.field }));
          } else resolve(parsed.result);
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}
