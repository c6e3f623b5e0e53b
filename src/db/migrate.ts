/**
 * Forward-only migrations. Files `sql/NNNNN_name.sql` are applied in order, each in its own
 * transaction, under a cluster-wide advisory lock so that several processes starting at once
 * (api, worker, tests) apply each file exactly once. Applied files are recorded with a checksum;
 * editing a file after it was applied is refused rather than silently diverging.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { Sql } from '../shared/db.js';
import { SQL_DIR } from '../shared/paths.js';

/** Arbitrary but fixed: the advisory lock id that serialises migrators. */
const MIGRATION_LOCK_ID = 727_001_001;
const FILE_RE = /^(\d{5})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: number;
  name: string;
  checksum: string;
  sql: string;
}

export function readMigrations(dir: string = SQL_DIR): Migration[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  const migrations = files.map((file) => {
    const m = FILE_RE.exec(file);
    if (!m) throw new Error(`Migration file name must look like 00001_name.sql: ${file}`);
    const sql = readFileSync(join(dir, file), 'utf8');
    return { version: Number(m[1]), name: m[2]!, sql, checksum: createHash('sha256').update(sql).digest('hex') };
  });
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`Migrations must be contiguous: expected ${i + 1}, found ${m.version}`);
  });
  return migrations;
}

export interface MigrateResult {
  applied: string[];
  current: number;
}

export async function migrate(sql: Sql, opts: { log?: (msg: string) => void; dir?: string } = {}): Promise<MigrateResult> {
  const migrations = readMigrations(opts.dir);
  const applied: string[] = [];
  // A dedicated connection holds the session-level advisory lock for the whole run.
  const conn = await sql.reserve();
  try {
    await conn`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
    await conn`
      create table if not exists schema_migrations (
        version    integer primary key,
        name       text not null,
        checksum   text not null,
        applied_at timestamptz not null default now()
      )`;
    const done = new Map(
      (await conn<{ version: number; checksum: string }[]>`select version, checksum from schema_migrations`).map(
        (r) => [r.version, r.checksum],
      ),
    );
    for (const m of migrations) {
      const prior = done.get(m.version);
      if (prior !== undefined) {
        if (prior !== m.checksum) {
          throw new Error(`Migration ${m.version}_${m.name} was changed after it was applied; add a new migration instead`);
        }
        continue;
      }
      await conn.unsafe('begin');
      try {
        await conn.unsafe(m.sql);
        await conn`insert into schema_migrations (version, name, checksum) values (${m.version}, ${m.name}, ${m.checksum})`;
        await conn.unsafe('commit');
      } catch (err) {
        await conn.unsafe('rollback');
        throw new Error(`Migration ${m.version}_${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(`${m.version}_${m.name}`);
      opts.log?.(`applied migration ${m.version}_${m.name}`);
    }
    return { applied, current: migrations.length };
  } finally {
    await conn`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`.catch(() => {});
    conn.release();
  }
}
