/**
 * `npm run cli -- wallets show <teamId>`,
 * `… wallets grant <teamId> <amount> --source S --reason TEXT [--priority N] [--expires-at ISO] [--key KEY]`,
 * `… wallets settings <teamId> [--billing-mode M] [--overdraft-limit AMOUNT] [--low-balance-threshold AMOUNT|none]`:
 * a team's prepaid wallet through the running api (the operator routes, audited), amounts in major
 * units as decimal strings ("25", "0.000002"). Exit codes: 64 usage, 65 refused.
 */
import { randomBytes } from 'node:crypto';
import { adminApi, ApiCallError, parseFlags, type AdminApi } from './admin-api.js';

const USAGE = `usage: npm run cli -- wallets show <teamId>
       npm run cli -- wallets grant <teamId> <amount> --source purchase|promotion|plan_allowance|refund|manual --reason TEXT [--priority N] [--expires-at ISO-8601] [--key IDEMPOTENCY-KEY]
       npm run cli -- wallets settings <teamId> [--billing-mode arrears|wallet|wallet_then_arrears] [--overdraft-limit AMOUNT] [--low-balance-threshold AMOUNT|none]
`;

interface Grant {
  grantId: string;
  source: string;
  amount: string;
  remaining: string;
  priority: number;
  expiresAt: string | null;
  status: string;
  reason: string;
}

interface Wallet {
  teamId: string;
  currency: string;
  billingMode: string;
  balance: string;
  held: string;
  available: string;
  overdraftLimit: string;
  overdraftUsed: string;
  grants: Grant[];
}

const grantLine = (g: Grant) =>
  `  ${g.grantId} ${g.source} ${g.amount} left ${g.remaining} (${g.status}), priority ${g.priority}, ${g.expiresAt ? `expires ${g.expiresAt}` : 'never expires'}: ${g.reason}\n`;

const show = (w: Wallet) =>
  `${w.teamId} ${w.currency} (${w.billingMode}): balance ${w.balance}, held ${w.held}, available ${w.available}; overdraft ${w.overdraftUsed} of ${w.overdraftLimit}\n` +
  w.grants.map(grantLine).join('');

const GRANT_FLAGS = ['source', 'reason', 'priority', 'expires-at', 'key'];
const SETTINGS_FLAGS = ['billing-mode', 'overdraft-limit', 'low-balance-threshold'];

export async function walletsCommand(args: string[], io: { api?: AdminApi; out?: (t: string) => void; err?: (t: string) => void } = {}): Promise<number> {
  const out = io.out ?? ((t: string) => process.stdout.write(t));
  const err = io.err ?? ((t: string) => process.stderr.write(t));
  const parsed = parseFlags(args, [...GRANT_FLAGS, ...SETTINGS_FLAGS]);
  const [sub, teamId, amount, ...rest] = parsed?.positional ?? [];
  const flags = parsed?.flags ?? new Map<string, string[]>();
  const only = (allowed: string[]) => [...flags.keys()].every((f) => allowed.includes(f));
  const valid =
    parsed &&
    rest.length === 0 &&
    teamId !== undefined &&
    ((sub === 'show' && amount === undefined && flags.size === 0) ||
      (sub === 'grant' && amount !== undefined && only(GRANT_FLAGS) && flags.has('source') && flags.has('reason')) ||
      (sub === 'settings' && amount === undefined && flags.size > 0 && only(SETTINGS_FLAGS)));
  if (!valid) {
    err(USAGE);
    return 64;
  }
  const flag = (n: string) => flags.get(n)?.at(-1);
  const path = `/admin/teams/${encodeURIComponent(teamId)}/wallet`;
  const api = io.api ?? adminApi();
  try {
    if (sub === 'show') {
      out(show((await api.call<Wallet>('GET', path)).body));
    } else if (sub === 'grant') {
      const priority = flag('priority');
      const body = {
        amount,
        source: flag('source'),
        reason: flag('reason'),
        // A malformed number goes to the api as it is, so its 400 names the field.
        ...(priority === undefined ? {} : { priority: /^\d+$/.test(priority) ? Number(priority) : priority }),
        ...(flag('expires-at') ? { expiresAt: flag('expires-at') } : {}),
      };
      const res = await api.call<Grant>('POST', `${path}/grants`, { body, idempotencyKey: flag('key') ?? `cli-${randomBytes(8).toString('hex')}` });
      out(`${res.status === 200 ? 'replayed' : 'granted'}:\n${grantLine(res.body)}`);
      out(show((await api.call<Wallet>('GET', path)).body));
    } else {
      const threshold = flag('low-balance-threshold');
      const body = {
        ...(flag('billing-mode') ? { billingMode: flag('billing-mode') } : {}),
        ...(flag('overdraft-limit') ? { overdraftLimit: flag('overdraft-limit') } : {}),
        ...(threshold === undefined ? {} : { lowBalanceThreshold: threshold === 'none' ? null : threshold }),
      };
      out(show((await api.call<Wallet>('PATCH', path, { body })).body));
    }
    return 0;
  } catch (e) {
    if (!(e instanceof ApiCallError)) throw e;
    err(`refused: ${e.message}\n`);
    return 65;
  }
}
