/**
 * The operator CLI: `npm run cli -- <command> …`; each command returns its exit code.
 *   setup                    migrate, and register the search attributes on Temporal (deployments)
 *   migrate                  bring the database to the current schema
 *   ledger verify            recompute every ledger balance and invariant from the entries
 *   catalog apply <file>     publish the plans of a catalog file (idempotent; --dry-run)
 *   apps secrets <appId>     list an app's secrets (ids and dates, never values)
 *   apps revoke-secret <appId> <secretId>   revoke a secret now (e.g. a leaked one)
 *   apps register|checkout-urls   register an app (its secret is printed once); set its Checkout defaults
 *   stripe parked            Stripe events acknowledged but parked (unprocessable, unmatched)
 *   stripe complete-checkout|finalize-invoice|pay-invoice|fail-payment <ref>   Stripe's webhooks, by hand, on stripe-mock
 *   usage fold-cogs          post the queued COGS of ingested batches to the ledger now
 *   subscriptions create <teamId> <planCode> …   put a team on a plan without Checkout (through the api)
 *   test-clocks create|show|advance …            test clocks (through the api; an advance returns when settled)
 *   wallets show|grant|settings <teamId> …       a team's prepaid wallet (through the api; grants audited)
 *   demo                     usage of the demo team, its clock across the period end, the invoice (beside npm start)
 *
 * Beside `npm start` the commands need no environment: they find its database and secrets in the
 * data folder (src/cli/environment.ts); variables such as DATABASE_URL override that.
 */
import { appsCommand } from './apps.js';
import { catalogCommand } from './catalog.js';
import { stripeCommand } from './stripe.js';
import { ledgerCommand, migrateCommand } from './database.js';
import { setupCommand } from './setup.js';
import { CliConfigError } from './environment.js';
import { ConfigError } from '../shared/config.js';
import { usageCommand } from './usage.js';
import { subscriptionsCommand } from './subscriptions.js';
import { testClocksCommand } from './test-clocks.js';
import { demoCommand } from './demo.js';
import { walletsCommand } from './wallets.js';

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  setup: setupCommand,
  migrate: migrateCommand,
  ledger: ledgerCommand,
  catalog: catalogCommand,
  apps: appsCommand,
  stripe: stripeCommand,
  usage: usageCommand,
  subscriptions: subscriptionsCommand,
  'test-clocks': testClocksCommand,
  wallets: walletsCommand,
  demo: demoCommand,
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
    if (err instanceof CliConfigError || err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
