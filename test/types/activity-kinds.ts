/**
 * Type test (compiled by `npm run typecheck` and test/types/type-tests.test.ts, never run): the DB proxy carries Postgres activities
 * only, the Stripe proxy Stripe activities only. A Stripe call through the DB proxy would run with a
 * database's 10 s timeout and without the 24 h bound its idempotency key needs; it must not compile.
 */
import type { DbActivities, StripeActivities } from '../../src/activities/index.js';

declare const db: DbActivities;
declare const stripe: StripeActivities;

export async function stripeCallsNeedTheStripeProxy(): Promise<void> {
  // @ts-expect-error createStripeInvoice is a Stripe activity: not on the DB proxy.
  await db.createStripeInvoice({ invoiceId: 'inv_x', idempotencyKey: 'k' });
  // @ts-expect-error createStripeCustomer is a Stripe activity: not on the DB proxy.
  await db.createStripeCustomer({ teamId: 't', idempotencyKey: 'k' });
  // @ts-expect-error invoicePeriod is one Postgres transaction: not on the Stripe proxy.
  await stripe.invoicePeriod({ subscriptionId: 's', periodStart: '', periodEnd: '', nextPeriodEnd: null, mode: 'final', workflowId: 'w' });
  await db.findStripeCustomer({ teamId: 't' });
  await stripe.createStripeCustomer({ teamId: 't', idempotencyKey: 'k' });
}

/** No activity is of both kinds: each has exactly one set of timeouts. */
type Both = keyof DbActivities & keyof StripeActivities;
const noActivityOfBothKinds: [Both] extends [never] ? true : false = true;
export { noActivityOfBothKinds };
