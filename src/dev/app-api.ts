/**
 * The public API as an app calls it (a fresh HS256 JWT per request, signed with the app's secret),
 * for the demo: its usage and its reads go through the same routes, auth and validation as any
 * app's. The SDK does the same for apps; it is not part of the service's build, so this is its
 * smallest equivalent.
 */
import { SignJWT } from 'jose';
import { ApiCallError } from '../cli/admin-api.js';

/** Well under the service's 300 s ceiling: one token per request. */
const TOKEN_LIFETIME_S = 60;

export interface AppApi {
  call<T>(method: string, path: string, opts: { scopes: string[]; teamId?: string; body?: unknown; idempotencyKey?: string }): Promise<T>;
}

export function appApi(o: { baseUrl: string; appId: string; secret: string }): AppApi {
  const key = new TextEncoder().encode(o.secret);
  return {
    async call<T>(method: string, path: string, opts: { scopes: string[]; teamId?: string; body?: unknown; idempotencyKey?: string }): Promise<T> {
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ appId: o.appId, scopes: opts.scopes, ...(opts.teamId ? { teamId: opts.teamId } : {}) })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuedAt(now)
        .setExpirationTime(now + TOKEN_LIFETIME_S)
        .sign(key);
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
      const res = await fetch(new URL(path, o.baseUrl), { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
      const body = (await res.json().catch(() => ({}))) as T;
      if (res.status >= 400) throw new ApiCallError(res.status, body as ApiCallError['problem']);
      return body;
    },
  };
}
