/**
 * `npm run cli -- apps …`: what `POST /admin/apps` and `PATCH /admin/apps/{appId}` do, from a terminal.
 *   apps register <appId> <name> [--success-url URL] [--cancel-url URL]   prints the secret, once
 *   apps checkout-urls <appId> [--success-url URL|none] [--cancel-url URL|none]
 * The URLs are where Stripe Checkout sends customers back when a checkout request names none.
 * Exit codes follow sysexits: 64 usage, 65 invalid input.
 */
import { parseArgs } from 'node:util';
import { checkoutUrlSchema, registerApp, setCheckoutDefaults, type AppView } from '../platform/apps.js';
import { createSql } from '../shared/db.js';
import { AppError } from '../shared/errors.js';
import { cliEnvironment, need } from './environment.js';
import type { CliIo } from './apps.js';

const USAGE = `usage: npm run cli -- apps register <appId> <name> [--success-url URL] [--cancel-url URL]
       npm run cli -- apps checkout-urls <appId> [--success-url URL|none] [--cancel-url URL|none]
`;

const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$/;

export async function appRegistrationCommand(args: string[], io: CliIo = {}): Promise<number> {
  const out = io.out ?? ((t: string) => process.stdout.write(t));
  const err = io.err ?? ((t: string) => process.stderr.write(t));
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { 'success-url': { type: 'string' }, 'cancel-url': { type: 'string' } } });
  } catch (e) {
    err(`${(e as Error).message}\n${USAGE}`);
    return 64;
  }
  const [sub, appId, name, ...rest] = parsed.positionals;
  const registering = sub === 'register' && name !== undefined;
  if (!(registering || (sub === 'checkout-urls' && name === undefined)) || rest.length > 0 || !appId) {
    err(USAGE);
    return 64;
  }
  const problems: string[] = [];
  if (!ID.test(appId)) problems.push('appId: 3–64 letters, digits, _ or -');
  if (registering && (name.length < 1 || name.length > 200)) problems.push('name: 1–200 characters');
  const url = (flag: 'success-url' | 'cancel-url'): string | null | undefined => {
    const value = parsed.values[flag];
    if (value === undefined) return undefined;
    if (value === 'none' && !registering) return null;
    const checked = checkoutUrlSchema.safeParse(value);
    if (!checked.success) problems.push(`--${flag}: ${checked.error.issues.map((i) => i.message).join('; ')}`);
    return value;
  };
  const checkoutSuccessUrl = url('success-url');
  const checkoutCancelUrl = url('cancel-url');
  if (problems.length > 0) {
    err(problems.map((p) => `${p}\n`).join(''));
    return 65;
  }

  const env = io.sql && io.secretsKey ? null : cliEnvironment();
  const sql = io.sql ?? createSql(need(env!.databaseUrl, 'DATABASE_URL', env!), { applicationName: 'billing-cli', max: 1 });
  try {
    if (registering) {
      const secretsKey = io.secretsKey ?? need(env!.secretsKey, 'SECRETS_KEY', env!);
      const input = { appId, name, ...(checkoutSuccessUrl ? { checkoutSuccessUrl } : {}), ...(checkoutCancelUrl ? { checkoutCancelUrl } : {}) };
      const app = await registerApp(sql, secretsKey, input, 'cli');
      out(describe(app));
      out(app.secret ? `secret: ${app.secret}   (shown once: store it now)\nsecretId: ${app.secretId}\n` : 'already registered with the same input; its secret is not shown again\n');
    } else {
      out(describe(await setCheckoutDefaults(sql, appId, { checkoutSuccessUrl, checkoutCancelUrl }, 'cli')));
    }
    return 0;
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    err(`${e.code}: ${e.message}\n`);
    return 65;
  } finally {
    if (!io.sql) await sql.end({ timeout: 5 });
  }
}

function describe(app: AppView): string {
  return `${app.appId} (${app.name})\n  checkout success URL: ${app.checkoutSuccessUrl ?? '(none)'}\n  checkout cancel URL:  ${app.checkoutCancelUrl ?? '(none)'}\n`;
}
