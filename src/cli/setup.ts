/**
 * `setup`: what a deployment runs once before api and worker start (docker-compose runs it as a
 * one-shot service): the migrations, and our search attributes on the Temporal namespace.
 */
import { z } from 'zod';
import { loadConfigOrExit } from '../shared/config.js';
import { ensureSearchAttributes } from '../shared/temporal.js';
import { migrateCommand } from './database.js';

const SEARCH_ATTRIBUTE_TIMEOUT_MS = 120_000;

export async function setupCommand(): Promise<number> {
  const code = await migrateCommand();
  if (code !== 0) return code;
  const config = loadConfigOrExit(
    z.object({ TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'), TEMPORAL_NAMESPACE: z.string().min(1).default('default') }),
  );
  await ensureSearchAttributes(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE, SEARCH_ATTRIBUTE_TIMEOUT_MS);
  process.stdout.write(`search attributes registered on ${config.TEMPORAL_ADDRESS} (${config.TEMPORAL_NAMESPACE})\n`);
  return 0;
}
