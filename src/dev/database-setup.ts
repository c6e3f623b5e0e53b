/**
 * Brings a database to the current schema and gives the application role a login, for the launcher
 * and the test harness. In production an operator does the role part once; migrations run at start.
 */
import { createSql, type Sql } from '../shared/db.js';
import { migrate } from '../db/migrate.js';

export const APP_ROLE = 'billing_app';

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

function withCredentials(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
}

/** Creates `database` on the server of `adminUrl` unless it exists. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const sql = createSql(withDatabase(adminUrl, 'postgres'), { applicationName: 'billing-setup', max: 1 });
  try {
    const [row] = await sql`select 1 as one from pg_database where datname = ${database}`;
    if (!row) {
      try {
        await sql.unsafe(`create database "${database.replace(/"/g, '""')}"`);
      } catch (err) {
        if ((err as { code?: string }).code !== '42P04') throw err; // created concurrently
      }
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export async function dropDatabase(adminUrl: string, database: string): Promise<void> {
  const sql = createSql(withDatabase(adminUrl, 'postgres'), { applicationName: 'billing-setup', max: 1 });
  try {
    await sql.unsafe(`drop database if exists "${database.replace(/"/g, '""')}" with (force)`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Migrates `database` as the owner and lets `billing_app` log in with `appPassword`.
 * Returns the owner URL and the application URL of that database.
 */
export async function prepareDatabase(opts: {
  serverAdminUrl: string;
  database: string;
  appPassword: string;
  log?: (msg: string) => void;
}): Promise<{ adminUrl: string; appUrl: string }> {
  await ensureDatabase(opts.serverAdminUrl, opts.database);
  const adminUrl = withDatabase(opts.serverAdminUrl, opts.database);
  const sql: Sql = createSql(adminUrl, { applicationName: 'billing-migrate', max: 1 });
  try {
    await migrate(sql, opts.log ? { log: opts.log } : {});
    const [stmt] = await sql<{ s: string }[]>`select format('alter role %I login password %L', ${APP_ROLE}::text, ${opts.appPassword}::text) as s`;
    await sql.unsafe(stmt!.s);
  } finally {
    await sql.end({ timeout: 5 });
  }
  return { adminUrl, appUrl: withCredentials(adminUrl, APP_ROLE, opts.appPassword) };
}
