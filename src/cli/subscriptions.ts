/**
 * `npm run cli -- subscriptions create <teamId> <planCode> [--seats N] [--add-on CODE]…
 *   [--collection send_invoice|charge_automatically] [--days-until-due N] [--starts-at ISO] [--key KEY]`:
 * puts a team on a plan without Checkout (POST /admin/teams/{teamId}/subscriptions on the running
 * api). The default Idempotency-Key is derived from the arguments, so running the same command again
 * is a replay, not a second subscription. Exit codes: 64 usage, 65 refused by the api.
 */
import { createHash } from 'node:crypto';
import { adminApi, ApiCallError, parseFlags, type AdminApi } from './admin-api.js';

const USAGE = `usage: npm run cli -- subscriptions create <teamId> <planCode> [--seats N] [--add-on CODE]… [--collection send_invoice|charge_automatically] [--days-until-due N] [--starts-at ISO-8601] [--key IDEMPOTENCY-KEY]\n`;
const FLAGS = ['seats', 'add-on', 'collection', 'days-until-due', 'starts-at', 'key'] as const;

export interface SubscriptionStart {
  subscriptionId: string;
  status: string;
  collection: string;
  daysUntilDue: number | null;
  startsAt: string;
  stripeSubscriptionId: string | null;
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
  workflowId: string;
}

export interface StartOptions {
  teamId: string;
  planCode: string;
  seats?: number;
  addOns?: string[];
  collection: 'send_invoice' | 'charge_automatically';
  daysUntilDue?: number;
  startsAt?: string;
  key?: string;
}

/** Starts (or replays) the subscription through the api. */
export async function startSubscription(api: AdminApi, o: StartOptions): Promise<{ replayed: boolean; start: SubscriptionStart }> {
  const body = {
    planCode: o.planCode,
    ...(o.seats !== undefined ? { seats: o.seats } : {}),
    ...(o.addOns?.length ? { addOns: o.addOns } : {}),
    collection: o.collection,
    ...(o.daysUntilDue !== undefined ? { daysUntilDue: o.daysUntilDue } : {}),
    ...(o.startsAt !== undefined ? { startsAt: o.startsAt } : {}),
  };
  const key = o.key ?? `cli-${createHash('sha256').update(JSON.stringify([o.teamId, body])).digest('hex').slice(0, 32)}`;
  const res = await api.call<SubscriptionStart>('POST', `/admin/teams/${encodeURIComponent(o.teamId)}/subscriptions`, { body, idempotencyKey: key });
  return { replayed: res.status === 200, start: res.body };
}

function options(args: string[]): StartOptions | undefined {
  const parsed = parseFlags(args, FLAGS);
  if (!parsed || parsed.positional.length !== 3 || parsed.positional[0] !== 'create') return undefined;
  const [, teamId, planCode] = parsed.positional as [string, string, string];
  const one = (name: string) => parsed.flags.get(name)?.at(-1);
  const int = (name: string) => (one(name) === undefined ? undefined : /^\d{1,6}$/.test(one(name)!) ? Number(one(name)) : NaN);
  const collection = one('collection') ?? 'send_invoice';
  if (collection !== 'send_invoice' && collection !== 'charge_automatically') return undefined;
  const seats = int('seats');
  const daysUntilDue = int('days-until-due');
  if (Number.isNaN(seats) || Number.isNaN(daysUntilDue)) return undefined;
  return {
    teamId,
    planCode,
    collection,
    ...(seats !== undefined ? { seats } : {}),
    ...(daysUntilDue !== undefined ? { daysUntilDue } : {}),
    addOns: parsed.flags.get('add-on') ?? [],
    ...(one('starts-at') ? { startsAt: one('starts-at')! } : {}),
    ...(one('key') ? { key: one('key')! } : {}),
  };
}

export async function subscriptionsCommand(args: string[], io: { api?: AdminApi; out?: (t: string) => void; err?: (t: string) => void } = {}): Promise<number> {
  const out = io.out ?? ((t: string) => process.stdout.write(t));
  const err = io.err ?? ((t: string) => process.stderr.write(t));
  const o = options(args);
  if (!o) {
    err(USAGE);
    return 64;
  }
  try {
    const { replayed, start } = await startSubscription(io.api ?? adminApi(), o);
    out(`${replayed ? 'already ' : ''}${start.status}: subscription ${start.subscriptionId} of ${o.teamId} on ${o.planCode} (${start.collection}${start.daysUntilDue !== null ? `, net ${start.daysUntilDue} days` : ''})\n`);
    out(`  starts ${start.startsAt}; period ${start.currentPeriodStart ?? '-'} → ${start.currentPeriodEnd ?? '-'}; Stripe ${start.stripeSubscriptionId ?? '-'}; workflow ${start.workflowId}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof ApiCallError)) throw e;
    err(`refused: ${e.message}\n`);
    return 65;
  }
}
