/**
 * The operator CLI: `npm run cli -- <command> …`; each command returns its exit code.
 *   setup                    migrate, and register the search attributes on Temporal (deployments)
 *   migrate                  bring the database to the current schema
 *   ledger verify            recompute every ledger balance and invariant from the entries
 *   catalog apply <file>     publish the plans of a catalog file (idempotent; --dry-run)
 *   apps secrets <appId>     list an app's secrets (ids and dates, never values)
 *   apps revoke-secret <appId> <secretId>   revoke a secret now (e.g. a leaked one)
 *   stripe parked            Stripe events acknowledged but parked (unprocessable, unmatched)
 */
import { appsCommand } from './apps.js';
import { catalogCommand } from './catalog.js';
import { stripeCommand } from './stripe.js';
import { ledgerCommand, migrateCommand } from './database.js';
import { setupCommand } from './setup.js';

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  setup: setupCommand,
  migrate: migrateCommand,
  ledger: ledgerCommand,
  catalog: catalogCommand,
  apps: appsCommand,
  stripe: stripeCommand,
};

const [name, ...args] = process.argv.slice(2);
const command = name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
if (!command) {
  process.stderr.write(`usage: npm run cli -- <${Object.keys(COMMANDS).join('|')}> …\n`);
  process.exit(64);
}
command(args).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
