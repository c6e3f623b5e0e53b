/** Operator routes: a bearer admin credential from config, compared in constant time. */
import { timingSafeEqual, createHash } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import { AppError } from '../../shared/errors.js';
import type { ApiEnv } from '../deps.js';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export const requireAdmin = createMiddleware<ApiEnv>(async (c, next) => {
  const header = c.req.header('authorization') ?? '';
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  // Hash both sides so the comparison is constant-time whatever the lengths.
  if (!m || !timingSafeEqual(digest(m[1]!), digest(c.get('deps').adminToken))) {
    throw new AppError('admin_unauthorized');
  }
  c.set('log', c.get('log').child({ actor: 'admin' }));
  await next();
});
