/** `migrate` and `ledger verify`: operator commands on the database, as its owner (DATABASE_ADMIN_URL, else DATABASE_URL). */
import { createSql, type Sql } from '../shared/db.js';
import { cliEnvironment, need } from './environment.js';
import { migrate } from '../db/migrate.js';
import { formatReport, verifyLedger } from '../ledger/verify.js';

export async function withOwnerSql<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
  const env = cliEnvironment();
  const sql = createSql(need(env.adminDatabaseUrl, 'DATABASE_ADMIN_URL (or DATABASE_URL)', env), { applicationName: 'billing-cli', max: 1 });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export async function migrateCommand(): Promise<number> {
  return withOwnerSql(async (sql) => {
    const result = await migrate(sql, { log: (m) => process.stdout.write(`${m}\n`) });
    process.stdout.write(`schema at migration ${result.current} (${result.applied.length} applied now)\n`);
    return 0;
  });
}

/** Recomputes every balance and invariant from the entries; exits 1 on any violation. */
export async function ledgerCommand(args: string[]): Promise<number> {
  if (args.join(' ') !== 'verify') {
    process.stderr.write('usage: npm run cli -- ledger verify\n');
    return 64;
  }
  return withOwnerSql(async (sql) => {
    const report = await verifyLedger(sql);
    process.stdout.write(`${formatReport(report)}\n`);
    return report.ok ? 0 : 1;
  });
}
