/**
 * Operator credentials: a bearer admin token from config for /admin/*, and for /metrics either a
 * scrape-only METRICS_TOKEN or the admin token. Compared in constant time.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import { AppError } from '../../shared/errors.js';
import type { ApiEnv } from '../deps.js';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Whether the Authorization header is `Bearer <one of tokens>`. */
function bearerIsOneOf(header: string | undefined, tokens: Array<string | undefined>): boolean {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!m) return false;
  // Hash both sides so the comparison is constant-time whatever the lengths; every token is compared.
  const given = digest(m[1]!);
  return tokens.reduce((ok, token) => (token !== undefined && timingSafeEqual(given, digest(token))) || ok, false);
}

export const requireAdmin = createMiddleware<ApiEnv>(async (c, next) => {
  if (!bearerIsOneOf(c.req.header('authorization'), [c.get('deps').adminToken])) throw new AppError('admin_unauthorized');
  c.set('log', c.get('log').child({ actor: 'admin' }));
  await next();
});

/**
 * /metrics needs a credential: the api faces the internet (Stripe's webhooks reach it), and its
 * metrics tell traffic, error rates and parked webhook events to whoever asks. A Prometheus scraper
 * gets METRICS_TOKEN, which opens nothing else; the admin token works too.
 */
export const requireMetricsReader = createMiddleware<ApiEnv>(async (c, next) => {
  const { adminToken, metricsToken } = c.get('deps');
  if (!bearerIsOneOf(c.req.header('authorization'), [metricsToken, adminToken])) {
    throw new AppError('admin_unauthorized', 'Send `Authorization: Bearer <METRICS_TOKEN>` (or the admin token)');
  }
  await next();
});
