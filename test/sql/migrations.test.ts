/** Forward-only migrations and re-applied function files: applied once under concurrency, recorded, never silently edited. */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync, cpSync, appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSql } from '../../src/shared/db.js';
import { migrate, readFunctionFiles, readMigrations, SUPERSEDED_CHECKSUMS } from '../../src/db/migrate.js';
import { dropDatabase, ensureDatabase } from '../../src/dev/database-setup.js';
import { SQL_DIR } from '../../src/shared/paths.js';
import { adminSql, services, uniqueId } from '../helpers/context.js';

const scratch: string[] = [];
afterAll(async () => {
  for (const db of scratch) await dropDatabase(services.serverAdminUrl, db);
});

async function freshDatabase(): Promise<string> {
  const name = uniqueId('mig').toLowerCase();
  await ensureDatabase(services.serverAdminUrl, name);
  scratch.push(name);
  const u = new URL(services.serverAdminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

describe('migrations', () => {
  it('record every file of sql/ in schema_migrations of the test database', async () => {
    const rows = await adminSql()<{ version: number }[]>`select version from schema_migrations order by version`;
    expect(rows.map((r) => r.version)).toEqual(readMigrations().map((m) => m.version));
  });

  it('apply each file exactly once when several migrators start together', async () => {
    const url = await freshDatabase();
    const pools = Array.from({ length: 4 }, () => createSql(url, { applicationName: 'mig-test', max: 1 }));
    const results = await Promise.all(pools.map((p) => migrate(p)));
    const total = results.reduce((n, r) => n + r.applied.length, 0);
    expect(total).toBe(readMigrations().length + readFunctionFiles().length);
    const [row] = await pools[0]!<{ n: number }[]>`select count(*)::int as n from schema_migrations`;
    expect(row!.n).toBe(readMigrations().length);
    await Promise.all(pools.map((p) => p.end()));
  });

  it('refuse to run when an applied migration file was edited', async () => {
    const url = await freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'mig-'));
    cpSync(SQL_DIR, dir, { recursive: true });
    const sql = createSql(url, { applicationName: 'mig-test', max: 1 });
    await migrate(sql, { dir });
    appendFileSync(join(dir, '00001_platform.sql'), '\n-- edited after the fact\n');
    await expect(migrate(sql, { dir })).rejects.toThrow(/changed after it was applied/);
    await sql.end();
  });

  it('roll back a failing migration entirely and leave it unrecorded', async () => {
    const url = await freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'mig-'));
    cpSync(SQL_DIR, dir, { recursive: true });
    const next = String(readMigrations().length + 1).padStart(5, '0');
    writeFileSync(join(dir, `${next}_broken.sql`), 'create table half_done (id int);\nselect 1/0;\n');
    const sql = createSql(url, { applicationName: 'mig-test', max: 1 });
    await expect(migrate(sql, { dir })).rejects.toThrow(/broken failed/);
    const [t] = await sql<{ n: number }[]>`select count(*)::int as n from pg_tables where tablename = 'half_done'`;
    expect(t!.n).toBe(0);
    const [m] = await sql<{ n: number }[]>`select count(*)::int as n from schema_migrations where name = 'broken'`;
    expect(m!.n).toBe(0);
    await sql.end();
  });

  it('apply a changed function file again, and only that one', async () => {
    const url = await freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'mig-'));
    cpSync(SQL_DIR, dir, { recursive: true });
    const sql = createSql(url, { applicationName: 'mig-test', max: 1 });
    await migrate(sql, { dir });
    expect((await migrate(sql, { dir })).applied).toEqual([]);
    appendFileSync(join(dir, 'functions', 'usage-costs.sql'), "\ncomment on function usage_cost_minor(numeric) is 'edited';\n");
    expect((await migrate(sql, { dir })).applied).toEqual(['functions/usage-costs.sql']);
    const [c] = await sql<{ c: string }[]>`select obj_description('usage_cost_minor(numeric)'::regprocedure, 'pg_proc') as c`;
    expect(c!.c).toBe('edited');
    await sql.end();
  });

  it('upgrade a database migrated by the files as applied before function files to the same schema as a fresh one', async () => {
    const oldFiles = join(import.meta.dirname, 'fixtures', 'applied-before-function-files');
    // The fixtures are the files as users applied them: the checksums the migrator accepts in their place.
    for (const file of readdirSync(oldFiles)) {
      const version = Number(file.slice(0, 5));
      const checksum = createHash('sha256').update(readFileSync(join(oldFiles, file), 'utf8')).digest('hex');
      const current = readMigrations().find((m) => m.version === version)!.checksum;
      expect(checksum === current || SUPERSEDED_CHECKSUMS[version]?.includes(checksum), file).toBe(true);
    }
    const upgraded = createSql(await freshDatabase(), { applicationName: 'mig-test', max: 1 });
    await migrate(upgraded, { dir: oldFiles });
    await migrate(upgraded);
    expect((await migrate(upgraded)).applied).toEqual([]);
    const fresh = createSql(await freshDatabase(), { applicationName: 'mig-test', max: 1 });
    await migrate(fresh);
    const [a, b] = await Promise.all([schemaOf(upgraded), schemaOf(fresh)]);
    expect(a.functions.length).toBeGreaterThan(20);
    expect(a).toEqual(b);
    await Promise.all([upgraded.end(), fresh.end()]);
  });
});

/** Functions (definition, owner's grants, settings), triggers, columns, constraints and recorded checksums of a database. */
async function schemaOf(sql: ReturnType<typeof createSql>) {
  const functions = await sql<{ sig: string; def: string; acl: string | null }[]>`
    select p.oid::regprocedure::text as sig, pg_get_functiondef(p.oid) as def, p.proacl::text as acl
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'public' and p.prokind = 'f' order by 1`;
  const triggers = await sql<{ t: string }[]>`
    select pg_get_triggerdef(t.oid) as t from pg_trigger t join pg_class c on c.oid = t.tgrelid
    join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and not t.tgisinternal order by 1`;
  const columns = await sql<{ c: string }[]>`
    select table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') as c
    from information_schema.columns where table_schema = 'public' order by 1`;
  const constraints = await sql<{ c: string }[]>`
    select conrelid::regclass::text || ' ' || pg_get_constraintdef(oid) as c from pg_constraint
    where connamespace = 'public'::regnamespace order by 1`;
  const indexes = await sql<{ i: string }[]>`select indexdef as i from pg_indexes where schemaname = 'public' order by 1`;
  const recorded = await sql<{ r: string }[]>`
    select version || ' ' || checksum as r from schema_migrations union all select file || ' ' || checksum from schema_functions order by 1`;
  return {
    functions: functions.map((f) => `${f.sig}\n${f.acl ?? ''}\n${f.def}`),
    triggers: triggers.map((t) => t.t),
    columns: columns.map((c) => c.c),
    constraints: constraints.map((c) => c.c),
    indexes: indexes.map((i) => i.i),
    recorded: recorded.map((r) => r.r),
  };
}
