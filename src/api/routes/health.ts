/** Liveness (the process answers) and readiness (Postgres and Temporal answer). */
import { Hono } from 'hono';
import type { ApiEnv } from '../deps.js';

const READY_CHECK_TIMEOUT_MS = 2_000;

async function check(name: string, fn: () => Promise<unknown>): Promise<{ name: string; ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${READY_CHECK_TIMEOUT_MS} ms`)), READY_CHECK_TIMEOUT_MS);
      }),
    ]);
    return { name, ok: true };
  } catch (err) {
    return { name, ok: false, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

export const health = new Hono<ApiEnv>()
  .get('/live', (c) => c.json({ status: 'ok' }))
  .get('/ready', async (c) => {
    const { sql, temporal } = c.get('deps');
    const checks = await Promise.all([
      check('postgres', () => sql`select 1`),
      check('temporal', () => temporal.workflowService.getSystemInfo({})),
    ]);
    const ready = checks.every((x) => x.ok);
    return c.json({ status: ready ? 'ready' : 'not_ready', checks }, ready ? 200 : 503);
  });
