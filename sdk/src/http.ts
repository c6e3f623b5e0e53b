/** One HTTP call to the service: a fresh token, a timeout, problem+json → BillingApiError, bounded retries. */
import { BillingApiError, BillingNetworkError, type FieldError } from './errors.js';
import { signAppToken, type TokenClaims } from './token.js';

export interface HttpOptions {
  baseUrl: string;
  appId: string;
  secret: Uint8Array;
  secretId: string | undefined;
  tokenLifetimeS: number;
  timeoutMs: number;
  retriesMax: number;
  fetch: typeof fetch;
}

export interface CallOptions {
  method: 'GET' | 'POST';
  path: string;
  scopes: string[];
  teamId?: string | undefined;
  body?: unknown;
  headers?: Record<string, string>;
  /** Only idempotent calls (reads, writes carrying idempotency keys) are retried. */
  retry: boolean;
}

const BACKOFF_BASE_MS = 200;
const BACKOFF_MAX_MS = 5_000;

export async function call<T>(http: HttpOptions, opts: CallOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await once<T>(http, opts);
    } catch (err) {
      const retryable = err instanceof BillingNetworkError || (err instanceof BillingApiError && err.retryable);
      if (!opts.retry || !retryable || attempt >= http.retriesMax) throw err;
      const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt) * (0.5 + Math.random() / 2);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

async function once<T>(http: HttpOptions, opts: CallOptions): Promise<T> {
  const claims: TokenClaims = { appId: http.appId, teamId: opts.teamId, scopes: opts.scopes };
  const token = await signAppToken(http.secret, claims, http.tokenLifetimeS, http.secretId);
  const headers: Record<string, string> = { ...opts.headers, authorization: `Bearer ${token}`, accept: 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await http.fetch(new URL(opts.path, http.baseUrl), {
      method: opts.method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(http.timeoutMs),
    });
  } catch (err) {
    throw new BillingNetworkError(`${opts.method} ${opts.path} failed: ${(err as Error).message}`, { cause: err });
  }
  const text = await res.text();
  const body: unknown = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const p = (body ?? {}) as { code?: string; detail?: string; errors?: FieldError[]; requestId?: string };
    throw new BillingApiError(res.status, p.code ?? 'internal_error', p.detail ?? res.statusText, p.errors ?? [], p.requestId, body);
  }
  return body as T;
}
