/** Forward-only migrations: applied once under concurrency, recorded, and never silently edited. */
import { mkdtempSync, writeFileSync, cpSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSql } from '../../src/shared/db.js';
import { migrate, readMigrations } from '../../src/db/migrate.js';
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
    expect(total).toBe(readMigrations().length);
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
});
