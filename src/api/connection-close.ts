/**
 * A response sent before its request body has fully arrived (413 on a Content-Length over the limit,
 * 401 before an unauthenticated body is read) must end the connection: Node cannot parse the next
 * request until the rest of this body is drained, @hono/node-server gives up draining after a short
 * while and closes the socket, and a response that said `keep-alive` leaves the client to send its
 * next request into a closed socket. Saying `Connection: close` lets every client open a new one.
 */
import type { IncomingMessage } from 'node:http';
import { createMiddleware } from 'hono/factory';
import type { ApiEnv } from './deps.js';
import { setResponseHeader } from './security-headers.js';

export const closeAfterUnreadBody = createMiddleware<ApiEnv>(async (c, next) => {
  await next();
  // Present when served by @hono/node-server; absent under app.request() (no socket to keep).
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming && !incoming.complete) setResponseHeader(c, 'Connection', 'close');
});
