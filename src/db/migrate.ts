/**
 * The schema, from two kinds of files under sql/:
 *
 * - Migrations, `sql/NNNNN_name.sql`: tables, types, triggers, grants on tables. Forward-only:
 *   applied once each, in order, each in its own transaction, recorded with a checksum; editing a
 *   file after it was applied is refused rather than silently diverging.
 * - Function files, `sql/functions/<capability>.sql`: the one place each SQL function body lives, as
 *   `create or replace function` plus its grants. Applied again whenever their checksum changes
 *   (recorded in schema_functions), so changing a function is an edit of its file, never a second
 *   copy of its body in a new migration. Each file names, in a line `-- after: NNNNN`, the last
 *   migration its declarations need (argument and return types; 00000 for none). On a fresh database
 *   it is applied right after that migration, so a later migration that uses it (a trigger, a data
 *   change) finds it. Bodies are not checked against the schema at creation (as pg_dump restores
 *   them), so function files need no order among themselves. A function whose argument list or
 *   return type changes is dropped in a new migration, which its file then names in `after:`; a
 *   function no file defines any more is dropped by a migration too.
 *
 * Everything runs under a cluster-wide advisory lock so that several processes starting at once
 * (api, worker, tests) apply each file exactly once.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { Sql } from '../shared/db.js';
import { SQL_DIR } from '../shared/paths.js';

/** Arbitrary but fixed: the advisory lock id that serialises migrators. */
const MIGRATION_LOCK_ID = 727_001_001;
const FILE_RE = /^(\d{5})_([a-z0-9_]+)\.sql$/;
const FUNCTION_FILE_RE = /^[a-z0-9-]+\.sql$/;
const AFTER_RE = /^-- after: (\d{5})$/m;

/**
 * Checksums a migration had when it was applied on existing databases, before its function bodies
 * moved to sql/functions/ (and nothing else changed): a database that recorded one of these has the
 * same tables, and its functions are replaced from the function files, so it is accepted and its
 * record brought to the current checksum. test/sql/migrations.test.ts migrates a database with the
 * files as they were (test/sql/fixtures/applied-before-function-files/) and checks that it ends
 * identical to a fresh one.
 */
export const SUPERSEDED_CHECKSUMS: Readonly<Record<number, readonly string[]>> = {
  2: ['6493a041dda9f02f286d06e5171d85e70d82155333bc194e87ecaed0e4357df3'],
  3: ['c9cb802b37157efdbaa78e6b206d3811f555f2849c44e3988e02109d669d5853'],
  4: ['7d603f1e78ab95976f44c70e38222348bdedc32d516e6673e9a765dc30fe230b'],
  5: ['2b9dee4701c7606b3a0f610d33dad97fde8d886b124e3eb2abd8e222dd4c7f90'],
  6: ['d07a665d18530b48cfb979304cc5cb8fd28c012566867c3dc099f292a4393937'],
};

export interface Migration {
  version: number;
  name: string;
  checksum: string;
  sql: string;
}

export interface FunctionFile {
  file: string;
  /** The migration this file's declarations need (0: none). */
  after: number;
  checksum: string;
  sql: string;
}

const checksumOf = (sql: string) => createHash('sha256').update(sql).digest('hex');

export function readMigrations(dir: string = SQL_DIR): Migration[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  const migrations = files.map((file) => {
    const m = FILE_RE.exec(file);
    if (!m) throw new Error(`Migration file name must look like 00001_name.sql: ${file}`);
    const sql = readFileSync(join(dir, file), 'utf8');
    return { version: Number(m[1]), name: m[2]!, sql, checksum: checksumOf(sql) };
  });
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`Migrations must be contiguous: expected ${i + 1}, found ${m.version}`);
  });
  return migrations;
}

export function readFunctionFiles(dir: string = SQL_DIR): FunctionFile[] {
  const folder = join(dir, 'functions');
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((file) => {
      if (!FUNCTION_FILE_RE.test(file)) throw new Error(`Function file name must look like usage-ingest.sql: ${file}`);
      const sql = readFileSync(join(folder, file), 'utf8');
      const after = AFTER_RE.exec(sql);
      if (!after) throw new Error(`Function file ${file} must name the migration it needs in a line "-- after: NNNNN"`);
      return { file, after: Number(after[1]), sql, checksum: checksumOf(sql) };
    });
}

export interface MigrateResult {
  applied: string[];
  current: number;
}

type Conn = Awaited<ReturnType<Sql['reserve']>>;

async function inTx(conn: Conn, what: string, fn: () => Promise<void>): Promise<void> {
  await conn.unsafe('begin');
  try {
    await fn();
    await conn.unsafe('commit');
  } catch (err) {
    await conn.unsafe('rollback');
    throw new Error(`${what} failed: ${(err as Error).message}`, { cause: err });
  }
}

export async function migrate(sql: Sql, opts: { log?: (msg: string) => void; dir?: string } = {}): Promise<MigrateResult> {
  const migrations = readMigrations(opts.dir);
  const functions = readFunctionFiles(opts.dir);
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
    await conn`
      create table if not exists schema_functions (
        file       text primary key,
        checksum   text not null,
        applied_at timestamptz not null default now()
      )`;
    const done = new Map((await conn<{ version: number; checksum: string }[]>`select version, checksum from schema_migrations`).map((r) => [r.version, r.checksum]));
    const current = new Map((await conn<{ file: string; checksum: string }[]>`select file, checksum from schema_functions`).map((r) => [r.file, r.checksum]));
    let pending = functions.filter((f) => current.get(f.file) !== f.checksum);

    const applyFunctions = async (upTo: number) => {
      for (const f of pending.filter((p) => p.after <= upTo)) {
        await inTx(conn, `Function file ${f.file}`, async () => {
          // Bodies refer to tables and functions that may come later in this run (see above).
          await conn.unsafe('set local check_function_bodies = off');
          await conn.unsafe(f.sql);
          await conn`
            insert into schema_functions (file, checksum) values (${f.file}, ${f.checksum})
            on conflict (file) do update set checksum = excluded.checksum, applied_at = now()`;
        });
        applied.push(`functions/${f.file}`);
        opts.log?.(`applied function file ${f.file}`);
      }
      pending = pending.filter((p) => p.after > upTo);
    };

    for (const m of migrations) {
      await applyFunctions(m.version - 1);
      const prior = done.get(m.version);
      if (prior === m.checksum) continue;
      if (prior !== undefined) {
        if (!SUPERSEDED_CHECKSUMS[m.version]?.includes(prior)) {
          throw new Error(`Migration ${m.version}_${m.name} was changed after it was applied; add a new migration instead`);
        }
        await conn`update schema_migrations set checksum = ${m.checksum} where version = ${m.version}`;
        continue;
      }
      await inTx(conn, `Migration ${m.version}_${m.name}`, async () => {
        await conn.unsafe(m.sql);
        await conn`insert into schema_migrations (version, name, checksum) values (${m.version}, ${m.name}, ${m.checksum})`;
      });
      applied.push(`${m.version}_${m.name}`);
      opts.log?.(`applied migration ${m.version}_${m.name}`);
    }
    await applyFunctions(Number.MAX_SAFE_INTEGER);
    return { applied, current: migrations.length };
  } finally {
    await conn`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`.catch(() => {});
    conn.release();
  }
}
