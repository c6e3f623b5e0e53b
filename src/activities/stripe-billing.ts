/**
 * Activities that call Stripe: one call each, always with the idempotency key the workflow derived
 * from business keys, so a retry after a crash repeats the same request rather than a new one. What
 * each request says is read from our records by src/billing/stripe-requests.ts.
 */
import type { PushLine } from '../billing/rate-period.js';
import {
  checkoutSessionParams,
  customerParams,
  finalInvoiceParams,
  priceParams,
  subscriptionRequest,
  type CheckoutSessionRequest,
  type StripeSubscriptionRequest,
} from '../billing/stripe-requests.js';
import { summarizeSubscription } from '../billing/stripe-summaries.js';
import { startedSubscription } from '../billing/stripe-subscription-start.js';
import { AppError } from '../shared/errors.js';
import type { ComponentKey } from '../subscriptions/components.js';
import type { StripeItemChange } from '../subscriptions/lifecycle.js';
import type { StripeSubscriptionSummary } from '../workflows/stripe-event.js';
import type { StripeActivityDeps } from './deps.js';
import { activity } from './failures.js';

export type { StripeItemChange } from '../subscriptions/lifecycle.js';

export function createStripeBillingActivities({ sql, stripe }: StripeActivityDeps) {
  return {
    /** The team's Stripe customer; the key derived from the team makes a retry return the same one. */
    createStripeCustomer: activity(async (input: { teamId: string; idempotencyKey: string }): Promise<{ id: string }> => {
      const customer = await stripe.customers.create(await customerParams(sql, input.teamId), { idempotencyKey: input.idempotencyKey });
      return { id: customer.id };
    }),

    /** One Stripe price (with its product, inline) for one component of a plan version. */
    createStripePrice: activity(
      async (input: { planVersionId: string; component: ComponentKey; idempotencyKey: string }): Promise<{ priceId: string; productId: string }> => {
        const price = await stripe.prices.create(await priceParams(sql, input.planVersionId, input.component), { idempotencyKey: input.idempotencyKey });
        return { priceId: price.id, productId: typeof price.product === 'string' ? price.product : price.product.id };
      },
    ),

    createCheckoutSession: activity(
      async (input: CheckoutSessionRequest & { idempotencyKey: string }): Promise<{ checkoutSessionId: string; checkoutUrl: string }> => {
        const session = await stripe.checkout.sessions.create(await checkoutSessionParams(sql, input), { idempotencyKey: input.idempotencyKey });
        if (!session.url) throw new AppError('stripe_request_invalid', `Checkout session ${session.id} has no URL`);
        return { checkoutSessionId: session.id, checkoutUrl: session.url };
      },
    ),

    /** The Stripe subscription of an operator's start (see subscriptionRequest), its items found in Stripe's answer. */
    createStripeSubscription: activity(
      async (input: StripeSubscriptionRequest & { startsAt: string; idempotencyKey: string }): Promise<StripeSubscriptionSummary> => {
        const { params, requested, interval } = await subscriptionRequest(sql, input);
        const created = await stripe.subscriptions.create(params, { idempotencyKey: input.idempotencyKey });
        return startedSubscription(summarizeSubscription(created), requested, input.startsAt, interval);
      },
    ),

    updateStripeSubscriptionItems: activity(
      async (input: { stripeSubscriptionId: string; items: StripeItemChange[]; prorationDate: string; idempotencyKey: string }): Promise<void> => {
        await stripe.subscriptions.update(
          input.stripeSubscriptionId,
          {
            items: input.items,
            proration_behavior: 'create_prorations',
            // Stripe prorates as of this instant, the same one our invoice lines use.
            proration_date: Math.floor(Date.parse(input.prorationDate) / 1000),
          },
          { idempotencyKey: input.idempotencyKey },
        );
      },
    ),

    cancelStripeSubscription: activity(async (input: { stripeSubscriptionId: string; atPeriodEnd: boolean; idempotencyKey: string }): Promise<void> => {
      if (input.atPeriodEnd) {
        await stripe.subscriptions.update(input.stripeSubscriptionId, { cancel_at_period_end: true }, { idempotencyKey: input.idempotencyKey });
      } else {
        // Usage up to now is invoiced by our final invoice; unused fixed fees are not refunded.
        await stripe.subscriptions.cancel(input.stripeSubscriptionId, { prorate: false, invoice_now: false }, { idempotencyKey: input.idempotencyKey });
      }
    }),

    retrieveStripeSubscription: activity(async (input: { stripeSubscriptionId: string }): Promise<StripeSubscriptionSummary> => {
      return summarizeSubscription(await stripe.subscriptions.retrieve(input.stripeSubscriptionId));
    }),

    /** The final invoice of a subscription: ours, sweeping in Stripe's pending prorations. */
    createStripeInvoice: activity(async (input: { invoiceId: string; idempotencyKey: string }): Promise<string> => {
      const created = await stripe.invoices.create(await finalInvoiceParams(sql, input.invoiceId), { idempotencyKey: input.idempotencyKey });
      return created.id!;
    }),

    pushInvoiceItem: activity(async (input: { invoiceId: string; stripeInvoiceId: string; line: PushLine; idempotencyKey: string }): Promise<string> => {
      const { line } = input;
      const item = await stripe.invoiceItems.create(
        {
          customer: line.stripeCustomerId,
          invoice: input.stripeInvoiceId,
          amount: Number(line.amountCents),
          currency: line.currency,
          description: line.description,
          period: { start: Math.floor(Date.parse(line.periodStart) / 1000), end: Math.floor(Date.parse(line.periodEnd) / 1000) },
          metadata: line.metadata,
        },
        { idempotencyKey: input.idempotencyKey },
      );
      return item.id;
    }),

    finalizeStripeInvoice: activity(async (input: { stripeInvoiceId: string; idempotencyKey: string }): Promise<void> => {
      await stripe.invoices.finalizeInvoice(input.stripeInvoiceId, { auto_advance: true }, { idempotencyKey: input.idempotencyKey });
    }),

    /** A dunning retry; its outcome arrives as invoice.paid or invoice.payment_failed. */
    retryInvoicePayment: activity(async (input: { stripeInvoiceId: string; idempotencyKey: string }): Promise<void> => {
      await stripe.invoices.pay(input.stripeInvoiceId, {}, { idempotencyKey: input.idempotencyKey });
    }),
  };
}
