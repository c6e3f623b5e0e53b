/**
 * Idempotency of API writes whose effect happens elsewhere (a workflow signal or update): the key is
 * claimed with the request hash first, the effect runs, the answer is stored. A replay with the same
 * payload gets the stored answer (or re-runs an effect that never completed — safe, because workflow
 * handlers dedupe by the same key); the same key with another payload is `idempotency_conflict`.
 */
import type { Sql } from '../shared/db.js';
import { requestHash } from '../shared/crypto.js';
import { idempotencyConflict } from '../shared/errors.js';

export async function idempotent<T>(
  sql: Sql,
  scope: string,
  key: string,
  payload: unknown,
  effect: () => Promise<T>,
): Promise<{ response: T; replayed: boolean }> {
  const hash = requestHash(payload);
  await sql`insert into api_idempotency (scope, key, request_hash, status) values (${scope}, ${key}, ${hash}, 'pending') on conflict do nothing`;
  const [row] = await sql<{ request_hash: Buffer; status: 'pending' | 'done'; response: T | null }[]>`
    select request_hash, status, response from api_idempotency where scope = ${scope} and key = ${key}`;
  if (!row!.request_hash.equals(hash)) throw idempotencyConflict(key);
  if (row!.status === 'done') return { response: row!.response as T, replayed: true };
  const response = await effect();
  await sql`
    update api_idempotency set status = 'done', response = ${sql.json(response as never)}, completed_at = now()
    where scope = ${scope} and key = ${key} and status = 'pending'`;
  return { response, replayed: false };
}
