/** Locations on disk that do not depend on whether we run from src/ (tsx) or dist/ (compiled). */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'sql'))) return dir;
    if (dirname(dir) === dir) throw new Error(`No project root above ${start}`);
  }
}

export const PROJECT_ROOT = findProjectRoot(dirname(fileURLToPath(import.meta.url)));
export const SQL_DIR = join(PROJECT_ROOT, 'sql');

/** The data folder of the embedded defaults (Postgres, Temporal's SQLite file, dev secrets). */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.BILLING_DATA_DIR ?? join(PROJECT_ROOT, '.data'));
}
