/**
 * `npm run cli -- apps register|checkout-urls …` registers an app and sets its Checkout defaults
 * (app-registration.ts);
 * `npm run cli -- apps secrets <appId>` lists an app's secrets (ids and dates, never values);
 * `npm run cli -- apps revoke-secret <appId> <secretId>` revokes one now, e.g. a leaked one (every
 * api process drops it at once; recorded in the audit log as actor `cli`). Connects as DATABASE_URL.
 * Exit codes follow sysexits: 64 usage, 65 bad input (unknown app or secret).
 */
import { createSql, type Sql } from '../shared/db.js';
import { AppError } from '../shared/errors.js';
import { listAppSecrets, revokeAppSecret } from '../platform/apps.js';
import { appRegistrationCommand } from './app-registration.js';
import { cliEnvironment, need } from './environment.js';

const USAGE = `usage: npm run cli -- apps secrets <appId>
       npm run cli -- apps revoke-secret <appId> <secretId>
       npm run cli -- apps register <appId> <name> [--success-url URL] [--cancel-url URL]
       npm run cli -- apps checkout-urls <appId> [--success-url URL|none] [--cancel-url URL|none]
`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface CliIo {
  /** A database to use instead of connecting to DATABASE_URL (tests). */
  sql?: Sql;
  /** The key app secrets are encrypted with, instead of SECRETS_KEY (tests). */
  secretsKey?: Buffer;
  out?: (text: string) => void;
  err?: (text: string) => void;
}

export async function withCliSql<T>(io: CliIo, fn: (sql: Sql) => Promise<T>): Promise<T> {
  // Beside `npm start` its database is found in the data folder (environment.ts).
  const env = io.sql ? null : cliEnvironment();
  const sql = io.sql ?? createSql(need(env!.databaseUrl, 'DATABASE_URL', env!), { applicationName: 'billing-cli', max: 1 });
  try {
    return await fn(sql);
  } finally {
    if (!io.sql) await sql.end({ timeout: 5 });
  }
}

export async function appsCommand(args: string[], io: CliIo = {}): Promise<number> {
  const out = io.out ?? ((t: string) => process.stdout.write(t));
  const err = io.err ?? ((t: string) => process.stderr.write(t));
  if (args[0] === 'register' || args[0] === 'checkout-urls') return appRegistrationCommand(args, io);
  const [sub, appId, secretId, ...rest] = args;
  const valid = rest.length === 0 && appId && (sub === 'secrets' ? secretId === undefined : sub === 'revoke-secret' && secretId !== undefined && UUID.test(secretId));
  if (!valid) {
    err(USAGE);
    return 64;
  }
  try {
    return await withCliSql(io, async (sql) => {
      if (sub === 'secrets') {
        for (const s of await listAppSecrets(sql, appId)) out(`${s.secretId}  created ${s.createdAt}  ${s.revokedAt ? `revoked ${s.revokedAt}` : 'active'}\n`);
        return 0;
      }
      const r = await revokeAppSecret(sql, appId, secretId!, 'cli');
      out(`${r.secretId}: ${r.replayed ? 'already revoked' : 'revoked'} at ${r.revokedAt}; active secrets of ${appId}: ${r.activeSecretIds.join(', ') || 'none'}\n`);
      return 0;
    });
  } catch (e) {
    if (!(e instanceof AppError && e.isBusiness)) throw e;
    err(`${e.message}\n`);
    return 65;
  }
}
