/**
 * `npm run cli -- stripe complete-checkout|finalize-invoice|pay-invoice|fail-payment <ref>`: Stripe's
 * side of the subscription path by hand, on stripe-mock (stripe-local.ts);
 * `npm run cli -- stripe parked [--reason unprocessable|unmatched] [--limit N]`: the Stripe events
 * acknowledged but parked (as `GET /admin/stripe-events/parked`), oldest first. Connects as DATABASE_URL.
 */
import { LIMITS } from '../shared/limits.js';
import { listParkedStripeEvents, PARK_REASONS, type ParkReason } from '../webhooks/parked-stripe-events.js';
import { withCliSql } from './apps.js';
import { LOCAL_STRIPE_STEPS, LOCAL_STRIPE_USAGE, localStripeCommand, type StripeCommandIo } from './stripe-local.js';

const USAGE = `usage: npm run cli -- stripe parked [--reason ${PARK_REASONS.join('|')}] [--limit 1-${LIMITS.pageSizeMax}]\n${LOCAL_STRIPE_USAGE}`;

function parseFlags(flags: string[]): { reason?: ParkReason; limit: number } | undefined {
  const parsed: { reason?: ParkReason; limit: number } = { limit: LIMITS.pageSizeMax };
  for (let i = 0; i < flags.length; i += 2) {
    const [flag, value] = [flags[i], flags[i + 1]];
    if (flag === '--reason' && (PARK_REASONS as readonly string[]).includes(value ?? '')) parsed.reason = value as ParkReason;
    else if (flag === '--limit' && /^\d{1,4}$/.test(value ?? '') && Number(value) >= 1 && Number(value) <= LIMITS.pageSizeMax) parsed.limit = Number(value);
    else return undefined;
  }
  return parsed;
}

export async function stripeCommand(args: string[], io: StripeCommandIo = {}): Promise<number> {
  const out = io.out ?? ((t: string) => process.stdout.write(t));
  const err = io.err ?? ((t: string) => process.stderr.write(t));
  if (args[0] !== undefined && LOCAL_STRIPE_STEPS.includes(args[0])) return localStripeCommand(args, io);
  const [sub, ...flags] = args;
  const opts = sub === 'parked' ? parseFlags(flags) : undefined;
  if (!opts) {
    err(USAGE);
    return 64;
  }
  return withCliSql(io, async (sql) => {
    const { items, next } = await listParkedStripeEvents(sql, opts);
    for (const e of items) {
      const what = e.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
      out(`#${e.parkedId} ${e.parkedAt} ${e.reason} ${e.eventId ?? '(no id)'} ${e.eventType ?? '(no type)'} — ${what}\n`);
    }
    out(`${items.length} parked event(s)${next ? `; more after #${next}` : ''}\n`);
    return 0;
  });
}
