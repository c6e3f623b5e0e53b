/**
 * Operator commands that act through the running api (what needs Temporal: subscriptions, test
 * clocks, the demo), with the admin token: the same routes, validation and idempotency as over HTTP.
 */
import { cliEnvironment, need } from './environment.js';

export interface AdminApi {
  baseUrl: string;
  temporalUiUrl: string | null;
  call<T>(method: string, path: string, opts?: { body?: unknown; idempotencyKey?: string; token?: string }): Promise<{ status: number; body: T }>;
}

export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly problem: { code?: string; detail?: string; errors?: { path: string; message: string }[] },
  ) {
    const fields = (problem.errors ?? []).map((e) => `\n  ${e.path}: ${e.message}`).join('');
    super(`${status} ${problem.code ?? ''}: ${problem.detail ?? ''}${fields}`);
  }
}

export function adminApi(env = cliEnvironment()): AdminApi {
  return adminApiAt({ apiUrl: env.apiUrl, adminToken: need(env.adminToken, 'ADMIN_TOKEN', env), temporalUiUrl: env.temporalUiUrl });
}

/** The api at a known address (the launcher, which has just started it). */
export function adminApiAt(env: { apiUrl: string; adminToken: string; temporalUiUrl: string | null }): AdminApi {
  const token = env.adminToken;
  return {
    baseUrl: env.apiUrl,
    temporalUiUrl: env.temporalUiUrl,
    async call<T>(method: string, path: string, opts: { body?: unknown; idempotencyKey?: string; token?: string } = {}) {
      const headers: Record<string, string> = { authorization: `Bearer ${opts.token ?? token}` };
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
      let res: Response;
      try {
        res = await fetch(new URL(path, env.apiUrl), { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
      } catch (err) {
        throw new Error(`The api at ${env.apiUrl} is not reachable (${(err as Error).message}); is npm start running?`, { cause: err });
      }
      const body = (await res.json().catch(() => ({}))) as T;
      if (res.status >= 400) throw new ApiCallError(res.status, body as ApiCallError['problem']);
      return { status: res.status, body };
    },
  };
}

/** Flags `--name value` (repeatable) after the positional arguments; undefined when malformed. */
export function parseFlags(args: string[], known: readonly string[]): { positional: string[]; flags: Map<string, string[]> } | undefined {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const name = a.slice(2);
    const value = args[++i];
    if (!known.includes(name) || value === undefined) return undefined;
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  return { positional, flags };
}
