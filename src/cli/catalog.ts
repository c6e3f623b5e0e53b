/**
 * `npm run cli -- catalog apply <file> [--dry-run]`: publishes each plan of a catalog file whose
 * content differs from its latest version (one transaction; a second apply changes nothing).
 * Connects as DATABASE_URL (beside `npm start`: its database, see src/cli/environment.ts). Exit codes follow sysexits: 64 usage, 65 invalid file, 66 unreadable.
 */
import { readFileSync } from 'node:fs';
import { createSql, type Sql } from '../shared/db.js';
import { AppError } from '../shared/errors.js';
import { applyCatalog, parseCatalogFile } from '../catalog/catalog-file.js';
import { cliEnvironment, need } from './environment.js';

const USAGE = 'usage: npm run cli -- catalog apply <file.yaml> [--dry-run]\n';

export interface CatalogCommandIo {
  /** A database to use instead of connecting to DATABASE_URL (tests). */
  sql?: Sql;
  out?: (text: string) => void;
  err?: (text: string) => void;
}

export async function catalogCommand(args: string[], io: CatalogCommandIo = {}): Promise<number> {
  const out = io.out ?? ((t: string) => process.stdout.write(t));
  const err = io.err ?? ((t: string) => process.stderr.write(t));
  const [sub, file, ...flags] = args;
  const unknownFlags = flags.filter((f) => f !== '--dry-run');
  if (sub !== 'apply' || !file || unknownFlags.length > 0) {
    err(USAGE);
    return 64;
  }
  const dryRun = flags.includes('--dry-run');

  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    err(`cannot read ${file}: ${(e as Error).message}\n`);
    return 66;
  }
  let catalog;
  try {
    catalog = parseCatalogFile(text);
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    err(`${file}: ${e.message}\n${(e.fields ?? []).map((f) => `  ${f.path}: ${f.message}\n`).join('')}`);
    return 65;
  }

  const env = io.sql ? null : cliEnvironment();
  const sql = io.sql ?? createSql(need(env!.databaseUrl, 'DATABASE_URL', env!), { applicationName: 'billing-cli', max: 1 });
  try {
    const outcomes = await applyCatalog(sql, catalog, 'cli', { dryRun });
    for (const o of outcomes) out(`${o.code}: ${o.created ? (dryRun ? 'would publish' : 'published') : 'unchanged'} ${o.versionId}\n`);
    out(`${outcomes.filter((o) => o.created).length} of ${outcomes.length} plans ${dryRun ? 'would change (dry run, nothing written)' : 'changed'}\n`);
    return 0;
  } finally {
    if (!io.sql) await sql.end({ timeout: 5 });
  }
}
