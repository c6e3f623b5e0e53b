/**
 * Activities that call Stripe: one call each, always with the idempotency key the workflow derived
 * from business keys, so a retry after a crash repeats the same request rather than a new one.
 */
import { getPlanVersion } from '../catalog/plan-versions.js';
import { AppError } from '../shared/errors.js';
import { fixedComponents, type ComponentKey } from '../subscriptions/components.js';
import { getSubscription } from '../subscriptions/store.js';
import { loadInvoice } from '../billing/invoices.js';
import type { PushLine } from '../billing/rate-period.js';
import { summarizeSubscription } from '../billing/stripe-summaries.js';
import { stripePriceParams } from '../billing/stripe-prices.js';
import { startedSubscription } from '../billing/stripe-subscription-start.js';
import type { CollectionMethod } from '../workflows/subscription-messages.js';
import type { StripeSubscriptionSummary } from '../workflows/stripe-event.js';
import type { ActivityDeps } from './deps.js';
import { activity } from './failures.js';

export interface StripeItemChange {
  id?: string;
  price?: string;
  quantity?: number;
  deleted?: boolean;
}

export function createStripeBillingActivities({ sql, stripe }: ActivityDeps) {
  return {
    /** One Stripe price (with its product, inline) for one component of a plan version. */
    createStripePrice: activity(
      async (input: { planVersionId: string; component: ComponentKey; idempotencyKey: string }): Promise<{ priceId: string; productId: string }> => {
        const params = stripePriceParams(await getPlanVersion(sql, input.planVersionId), input.component);
        const price = await stripe.prices.create(params, { idempotencyKey: input.idempotencyKey });
        return { priceId: price.id, productId: typeof price.product === 'string' ? price.product : price.product.id };
      },
    ),

    createCheckoutSession: activity(
      async (input: {
        subscriptionId: string;
        teamId: string;
        stripeCustomerId: string;
        prices: Record<string, string>;
        seats: number;
        successUrl: string;
        cancelUrl: string;
        idempotencyKey: string;
      }): Promise<{ checkoutSessionId: string; checkoutUrl: string }> => {
        const sub = await getSubscription(sql, input.subscriptionId);
        const plan = await getPlanVersion(sql, sub.plan_version_id);
        const lineItems = fixedComponents(plan, input.seats, sub.add_ons).map((c) => ({ price: input.prices[c.key]!, quantity: c.stripeQuantity }));
        const metadata = { subscription_id: input.subscriptionId, team_id: input.teamId, plan_version_id: plan.id };
        const session = await stripe.checkout.sessions.create(
          {
            mode: 'subscription',
            customer: input.stripeCustomerId,
            client_reference_id: input.subscriptionId,
            line_items: lineItems,
            success_url: input.successUrl,
            cancel_url: input.cancelUrl,
            metadata,
            subscription_data: { metadata },
          },
          { idempotencyKey: input.idempotencyKey },
        );
        if (!session.url) throw new AppError('stripe_request_invalid', `Checkout session ${session.id} has no URL`);
        return { checkoutSessionId: session.id, checkoutUrl: session.url };
      },
    ),

    /**
     * The Stripe subscription of an operator's start: by invoice with net terms (send_invoice), or
     * charged to the customer's saved default payment method, refused by Stripe when that fails
     * (error_if_incomplete) rather than left incomplete.
     */
    createStripeSubscription: activity(
      async (input: {
        subscriptionId: string;
        teamId: string;
        stripeCustomerId: string;
        prices: Record<string, string>;
        seats: number;
        addOns: string[];
        collection: CollectionMethod;
        daysUntilDue: number | null;
        startsAt: string;
        idempotencyKey: string;
      }): Promise<StripeSubscriptionSummary> => {
        const sub = await getSubscription(sql, input.subscriptionId);
        const plan = await getPlanVersion(sql, sub.plan_version_id);
        const requested = fixedComponents(plan, input.seats, input.addOns).map((c) => {
          const priceId = input.prices[c.key];
          if (!priceId) throw new AppError('conflict', `No Stripe price for component ${c.key} of plan version ${plan.id}`);
          return { component: c.key, priceId, quantity: c.stripeQuantity };
        });
        const metadata = { subscription_id: input.subscriptionId, team_id: input.teamId, plan_version_id: plan.id };
        const created = await stripe.subscriptions.create(
          {
            customer: input.stripeCustomerId,
            items: requested.map((r) => ({ price: r.priceId, quantity: r.quantity })),
            collection_method: input.collection,
            ...(input.collection === 'send_invoice' ? { days_until_due: input.daysUntilDue ?? 0 } : { payment_behavior: 'error_if_incomplete' as const }),
            metadata,
          },
          { idempotencyKey: input.idempotencyKey },
        );
        return startedSubscription(summarizeSubscription(created), requested, input.startsAt, plan.interval);
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
      const { row } = await loadInvoice(sql, input.invoiceId);
      const [customer] = await sql<{ stripe_customer_id: string }[]>`select stripe_customer_id from billing_customers where team_id = ${row.team_id}`;
      const sub = await getSubscription(sql, row.subscription_id);
      const created = await stripe.invoices.create(
        {
          customer: customer!.stripe_customer_id,
          // Collected as the subscription is: by invoice with its net terms, or charged automatically.
          collection_method: sub.collection_method,
          ...(sub.collection_method === 'send_invoice' ? { days_until_due: sub.days_until_due ?? 0 } : {}),
          auto_advance: false,
          pending_invoice_items_behavior: 'include',
          metadata: { invoice_id: row.id, subscription_id: row.subscription_id },
        },
        { idempotencyKey: input.idempotencyKey },
      );
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
