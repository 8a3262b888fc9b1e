// Graceful shutdown, the HTTP half. Closing the server refuses new connections and closes idle
// ones, but a connection whose request is still in flight stays open after its answer (HTTP
// keep-alive) until the keep-alive timeout, 72 s, and holds the shutdown that long. So once
// closing has begun, every answer says `Connection: close` and Node ends its connection as soon
// as it is sent.
import type { HttpApp } from './types.js';

export function closeConnectionsWhenDraining(app: HttpApp): void {
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (draining) void reply.header('connection', 'close');
  });
}
