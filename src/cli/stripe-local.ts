/**
 * `npm run cli -- stripe <step> <ref>` (dispatched from stripe.ts): Stripe's side of the subscription path for the embedded default, where
 * stripe-mock answers requests but sends no webhooks (like `stripe trigger` for a real account):
 *   stripe complete-checkout <cs_…|teamId>      the customer pays at Checkout: the subscription goes live
 *   stripe finalize-invoice <in_…|inv_…|sub_…|teamId>   Stripe's renewal invoice of an ended period, finalized
 *   stripe pay-invoice <in_…|inv_…|sub_…|teamId>        …and paid
 *   stripe fail-payment <in_…|inv_…|sub_…|teamId>       …and its payment fails (dunning)
 * Signed with the api's STRIPE_WEBHOOK_SECRET and sent to its /webhooks/stripe; beside `npm start`
 * everything comes from its data folder. Refused against a real Stripe account: use the Stripe CLI.
 */
import type { Sql } from '../shared/db.js';
import { createSql } from '../shared/db.js';
import { AppError } from '../shared/errors.js';
import { createStripe, type Stripe } from '../shared/stripe.js';
import { completeCheckout, failPayment, finalizeInvoice, payInvoice, type LocalStripe } from '../dev/stripe-walkthrough.js';
import { CliConfigError, cliEnvironment, need } from './environment.js';
import type { CliIo } from './apps.js';

export const LOCAL_STRIPE_USAGE = `       npm run cli -- stripe complete-checkout <checkoutSessionId|teamId>
       npm run cli -- stripe finalize-invoice <stripeInvoiceId|invoiceId|subscriptionId|teamId>
       npm run cli -- stripe pay-invoice <stripeInvoiceId|invoiceId|subscriptionId|teamId>
       npm run cli -- stripe fail-payment <stripeInvoiceId|invoiceId|subscriptionId|teamId>
`;

const STEPS: Record<string, (ctx: LocalStripe, ref: string) => Promise<unknown>> = {
  'complete-checkout': completeCheckout,
  'finalize-invoice': finalizeInvoice,
  'pay-invoice': payInvoice,
  'fail-payment': failPayment,
};

export interface StripeCommandIo extends CliIo {
  /** Everything the environment would give (tests). */
  ctx?: Omit<LocalStripe, 'log'>;
}

export const LOCAL_STRIPE_STEPS: readonly string[] = Object.keys(STEPS);

export async function localStripeCommand(args: string[], io: StripeCommandIo = {}): Promise<number> {
  const out = io.out ?? ((t: string) => process.stdout.write(t));
  const err = io.err ?? ((t: string) => process.stderr.write(t));
  const [step, ref, ...rest] = args;
  const run = step !== undefined && Object.hasOwn(STEPS, step) ? STEPS[step] : undefined;
  if (!run || !ref || rest.length > 0) {
    err(`usage:\n${LOCAL_STRIPE_USAGE}`);
    return 64;
  }
  let sql: Sql | null = null;
  let ctx: LocalStripe;
  if (io.ctx) ctx = { ...io.ctx, log: (line) => out(`${line}\n`) };
  else {
    const env = cliEnvironment();
    if (env.stripeApiUrl === null) {
      throw new CliConfigError('These commands stand in for Stripe on stripe-mock. With a Stripe account, complete Checkout in the browser and forward its events with `stripe listen --forward-to <api>/webhooks/stripe` (see README, Operations).');
    }
    sql = createSql(need(env.databaseUrl, 'DATABASE_URL', env), { applicationName: 'billing-cli-stripe', max: 2 });
    const stripe: Stripe = createStripe({ secretKey: 'sk_test_stripemock', apiUrl: env.stripeApiUrl });
    ctx = { sql, stripe, apiUrl: env.apiUrl, webhookSecret: need(env.webhookSecret, 'STRIPE_WEBHOOK_SECRET', env), log: (line) => out(`${line}\n`) };
  }
  try {
    await run(ctx, ref);
    return 0;
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    err(`${e.code}: ${e.message}\n`);
    return e.code === 'not_found' ? 66 : 1;
  } finally {
    await sql?.end({ timeout: 5 });
  }
}
