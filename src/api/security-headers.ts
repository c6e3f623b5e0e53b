/**
 * Response headers that protect callers, in one place:
 * - every response: `X-Content-Type-Options: nosniff` (a JSON or problem body is never run as a
 *   script or rendered as HTML by a browser that guesses), and `Cache-Control: no-store` unless the
 *   route chose otherwise, because nearly every answer carries a secret (app secrets on creation and
 *   rotation) or a team's billing data that no shared cache may keep;
 * - the docs page: a Content-Security-Policy built from the page it protects (docsContentSecurityPolicy).
 */
import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { ApiEnv } from './deps.js';

/**
 * Sets a header on the response already made. Responses built here have mutable headers, so no copy
 * of the body is needed; one passed through from elsewhere (a fetch, Response.redirect) is rewrapped.
 */
export function setResponseHeader(c: Context<ApiEnv>, name: string, value: string): void {
  try {
    c.res.headers.set(name, value);
  } catch {
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set(name, value);
  }
}

export const securityHeaders = createMiddleware<ApiEnv>(async (c, next) => {
  await next();
  setResponseHeader(c, 'X-Content-Type-Options', 'nosniff');
  if (!c.res.headers.has('Cache-Control')) setResponseHeader(c, 'Cache-Control', 'no-store');
});

const INLINE_SCRIPT = /<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi;
const ASSET_URL = /<(?:script|link)\b[^>]*\b(?:src|href)="(https?:\/\/[^"/]+)/gi;

/**
 * The docs page's policy: scripts only from this origin, the page's asset origins, and the page's own
 * inline scripts by hash (so an injected script cannot run even where the UI renders text from the
 * spec); styles may be inline (Swagger UI sets style attributes); fetches only to this origin and the
 * documented server; no plugins, no framing, no base or form tricks.
 */
export function docsPolicy(html: string, serverUrl: string): string {
  const hashes = [...html.matchAll(INLINE_SCRIPT)].map((m) => `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`);
  const assets = [...new Set([...html.matchAll(ASSET_URL)].map((m) => m[1]!))];
  const server = new URL(serverUrl).origin;
  return [
    "default-src 'none'",
    `script-src 'self' ${[...assets, ...hashes].join(' ')}`.trim(),
    `style-src 'self' 'unsafe-inline' ${assets.join(' ')}`.trim(),
    `img-src 'self' data: ${assets.join(' ')}`.trim(),
    "font-src 'self' data:",
    `connect-src 'self' ${server}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Adds docsPolicy to an HTML page (mount on the docs route only; the API itself serves no HTML). */
export const docsContentSecurityPolicy = createMiddleware<ApiEnv>(async (c, next) => {
  await next();
  if (!c.res.headers.get('content-type')?.startsWith('text/html')) return;
  const html = await c.res.clone().text();
  setResponseHeader(c, 'Content-Security-Policy', docsPolicy(html, c.get('deps').publicUrl));
});
