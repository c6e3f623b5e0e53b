/**
 * Stripe's side of the Checkout → active → invoice → paid / dunning path, played by hand against a
 * running api on stripe-mock (which sends no webhooks): what `stripe trigger` does for a real account.
 * Each step sends the signed events Stripe would send, built from objects stripe-mock returns with
 * our records laid over them, to the api's /webhooks/stripe — the product's own path — and waits
 * until the service has acted on them. Invoice totals are Stripe's arithmetic on Stripe's side of
 * things (stripe-records.ts, stripe-invoice-model.ts), never copied from our internal invoice.
 */
import type Stripe from 'stripe';
import type { Sql } from '../shared/db.js';
import { AppError, notFound } from '../shared/errors.js';
import { formatMinor } from '../shared/money.js';
import { getPlanVersion } from '../catalog/plan-versions.js';
import { fixedComponents } from '../subscriptions/components.js';
import { getSubscription, subscriptionAwaitingCheckout, type SubscriptionRow } from '../subscriptions/subscription-store.js';
import { invoiceByReference } from '../billing/invoice-store.js';
import { stripePricesOf } from '../billing/stripe-price-store.js';
import { stripeCustomerOf } from '../platform/billing-customer-store.js';
import { paymentFailuresOf } from '../webhooks/stripe-event-store.js';
import { nextPeriodEnd } from '../workflows/periods.js';
import { checkoutCompleted, invoiceEvent, itemIds, postSignedEvent, subscriptionEvent, type InvoiceEventType } from './stripe-event-payloads.js';
import { stripeInvoice, type StripeLine } from './stripe-invoice-model.js';
import { stripeInvoiceInputFromRecords, type InvoiceRecord } from './stripe-records.js';

export interface LocalStripe {
  sql: Sql;
  /** A client of stripe-mock. */
  stripe: Stripe;
  apiUrl: string;
  webhookSecret: string;
  log: (line: string) => void;
  /** How long a step waits for the service to act on its events. */
  waitMs?: number;
}

const STEP_WAIT_MS = 60_000;
const POLL_MS = 250;
const cents = (c: bigint) => formatMinor(c, 2);

async function until<T>(ctx: LocalStripe, what: string, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + (ctx.waitMs ?? STEP_WAIT_MS);
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new AppError('conflict', `Timed out after ${(ctx.waitMs ?? STEP_WAIT_MS) / 1000}s waiting for ${what}; is the worker running?`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function send(ctx: LocalStripe, event: { id: string; type: string }, about: string): Promise<void> {
  const res = await postSignedEvent(ctx.apiUrl, ctx.webhookSecret, event);
  if (res.status !== 200) throw new AppError('conflict', `The api answered ${event.type} with ${res.status}: ${await res.text()}`);
  ctx.log(`sent ${event.type} (${event.id}) for ${about}`);
}

/** The subscription a checkout reference names: a session id (cs_…), or a team's pending checkout. */
async function pendingCheckout(sql: Sql, ref: string): Promise<SubscriptionRow> {
  const row = await subscriptionAwaitingCheckout(sql, ref.startsWith('cs_') ? { checkoutSessionId: ref } : { teamId: ref });
  if (!row) throw notFound(`A checkout session ${ref.startsWith('cs_') ? ref : `pending for team ${ref}`}`);
  if (row.status !== 'incomplete') throw new AppError('conflict', `Checkout ${row.stripe_checkout_session_id} is already completed (subscription ${row.id} is ${row.status})`);
  return row;
}

/** Checkout completed: Stripe creates the subscription from the session's line items, then reports both. */
export async function completeCheckout(ctx: LocalStripe, ref: string): Promise<SubscriptionRow> {
  const sub = await pendingCheckout(ctx.sql, ref);
  const customerId = await stripeCustomerOf(ctx.sql, sub.team_id);
  if (!customerId) throw notFound(`Stripe customer of team ${sub.team_id}`);
  const plan = await getPlanVersion(ctx.sql, sub.plan_version_id);
  const prices = await stripePricesOf(ctx.sql, plan.id);
  const lineItems = fixedComponents(plan, sub.seats, sub.add_ons).map((c) => ({ priceId: prices.get(c.key)!, quantity: c.stripeQuantity }));
  const session = await ctx.stripe.checkout.sessions.retrieve(sub.stripe_checkout_session_id!);
  const created = await ctx.stripe.subscriptions.create({ customer: customerId, items: lineItems.map((i) => ({ price: i.priceId, quantity: i.quantity })) });
  // Stripe's first period starts now and ends one plan interval later (its billing anchor).
  const periodStart = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
  const periodEnd = nextPeriodEnd(periodStart, plan.interval);
  const base = { ...created } as unknown as Record<string, unknown>;
  const items = itemIds(created.id, lineItems);
  await send(ctx, subscriptionEvent('customer.subscription.created', { stripeSubscriptionId: created.id, subscriptionId: sub.id, items, periodStart, periodEnd, stripeCustomerId: customerId, base }), `subscription ${sub.id}`);
  await send(ctx, checkoutCompleted({ sessionId: session.id, subscriptionId: sub.id, stripeSubscriptionId: created.id, stripeCustomerId: customerId, base: { ...session } as unknown as Record<string, unknown> }), `checkout ${session.id}`);
  const active = await until(ctx, `subscription ${sub.id} to become active`, async () => {
    const row = await getSubscription(ctx.sql, sub.id);
    return row.status === 'active' ? row : undefined;
  });
  ctx.log(`subscription ${sub.id} is active: Stripe subscription ${created.id}, period ${active.current_period_start?.toISOString()} → ${active.current_period_end?.toISOString()}`);
  return active;
}

/** The invoice a reference names: Stripe's (in_…) or ours (inv_…), else the oldest open one of a subscription (sub_…) or team. */
export async function findInvoice(sql: Sql, ref: string): Promise<InvoiceRecord & { team_id: string; stripe_subscription_id: string; stripe_customer_id: string }> {
  const row = await invoiceByReference(sql, ref);
  if (!row) throw notFound(`An open invoice for ${ref} (a period must have ended and been rated first)`);
  const sub = await getSubscription(sql, row.subscription_id);
  const customerId = await stripeCustomerOf(sql, row.team_id);
  if (!sub.stripe_subscription_id || !customerId) throw notFound(`The Stripe subscription and customer of invoice ${row.id}`);
  return { ...row, stripe_subscription_id: sub.stripe_subscription_id, stripe_customer_id: customerId };
}

type Found = Awaited<ReturnType<typeof findInvoice>>;

async function reread(ctx: LocalStripe, invoice: Found): Promise<Found> {
  return findInvoice(ctx.sql, invoice.id);
}

/** Stripe's lines and total for the invoice now, printed (once our usage lines are on it, beside our total). */
async function computeStripeInvoice(ctx: LocalStripe, invoice: Found, draft = false): Promise<{ lines: StripeLine[]; totalCents: bigint }> {
  const computed = stripeInvoice(await stripeInvoiceInputFromRecords(ctx.sql, invoice));
  for (const l of computed.lines) ctx.log(`  ${cents(l.amountCents).padStart(12)}  ${l.kind.padEnd(12)} ${l.description}`);
  ctx.log(`  ${cents(computed.totalCents).padStart(12)}  ${draft ? 'draft total at Stripe, before our usage lines' : `total at Stripe (ours: ${cents(invoice.total_cents)})`}`);
  return computed;
}

function eventOf(type: InvoiceEventType, invoice: Found, stripeInvoiceId: string, computed: { lines: StripeLine[]; totalCents: bigint }, extra: { attemptCount?: number; base?: Record<string, unknown> } = {}) {
  return invoiceEvent(type, {
    stripeInvoiceId,
    stripeSubscriptionId: invoice.stripe_subscription_id,
    subscriptionId: invoice.subscription_id,
    stripeCustomerId: invoice.stripe_customer_id,
    periodStart: invoice.period_start.toISOString(),
    periodEnd: invoice.period_end.toISOString(),
    totalCents: computed.totalCents,
    lines: computed.lines,
    ...extra,
  });
}

/**
 * Takes the invoice as far as Stripe's side goes before a payment: the renewal invoice appears
 * (invoice.created) when a closed period waits for it; once our usage lines are on it, Stripe
 * finalizes it (invoice.finalized, with Stripe's total) and the close reconciles that total.
 */
export async function finalizeInvoice(ctx: LocalStripe, ref: string): Promise<Found> {
  let invoice = await findInvoice(ctx.sql, ref);
  if (invoice.status === 'draft' && invoice.stripe_invoice_id === null) {
    const input = await stripeInvoiceInputFromRecords(ctx.sql, invoice);
    if (input.renews) {
      const created = await ctx.stripe.invoices.create({ customer: invoice.stripe_customer_id, subscription: invoice.stripe_subscription_id });
      ctx.log(`Stripe's renewal invoice ${created.id} for ${invoice.period_start.toISOString()} → ${invoice.period_end.toISOString()}:`);
      const draft = await computeStripeInvoice(ctx, invoice, true);
      await send(ctx, eventOf('invoice.created', invoice, created.id!, draft, { base: { ...created } as unknown as Record<string, unknown> }), `invoice ${invoice.id}`);
    }
    invoice = await until(ctx, `invoice ${invoice.id} to carry its usage lines at Stripe`, async () => {
      const now = await reread(ctx, invoice);
      return now.status !== 'draft' ? now : undefined;
    });
  }
  if (invoice.status === 'issued') {
    ctx.log(`Stripe finalizes ${invoice.stripe_invoice_id}:`);
    const computed = await computeStripeInvoice(ctx, invoice);
    await send(ctx, eventOf('invoice.finalized', invoice, invoice.stripe_invoice_id!, computed), `invoice ${invoice.id}`);
    invoice = await until(ctx, `invoice ${invoice.id} to be reconciled`, async () => {
      const now = await reread(ctx, invoice);
      return now.status !== 'issued' ? now : undefined;
    });
  }
  if (invoice.status === 'mismatch') {
    throw new AppError('invoice_total_mismatch', `Invoice ${invoice.id}: Stripe's total differs from ours; its period close failed (BillingState = reconciliation_mismatch in the Temporal UI)`);
  }
  return invoice;
}

/** The payment succeeds: invoice.paid for Stripe's total. */
export async function payInvoice(ctx: LocalStripe, ref: string): Promise<Found> {
  const invoice = await finalizeInvoice(ctx, ref);
  if (invoice.status === 'paid') {
    ctx.log(`invoice ${invoice.id} is already paid`);
    return invoice;
  }
  const computed = stripeInvoice(await stripeInvoiceInputFromRecords(ctx.sql, invoice));
  const base = { ...(await ctx.stripe.invoices.retrieve(invoice.stripe_invoice_id!)) } as unknown as Record<string, unknown>;
  await send(ctx, eventOf('invoice.paid', invoice, invoice.stripe_invoice_id!, computed, { base, attemptCount: (await failures(ctx, invoice)) + 1 }), `invoice ${invoice.id}`);
  const paid = await until(ctx, `invoice ${invoice.id} to be paid`, async () => {
    const now = await reread(ctx, invoice);
    return now.status === 'paid' ? now : undefined;
  });
  ctx.log(`invoice ${invoice.id} is paid (${cents(computed.totalCents)})`);
  return paid;
}

async function failures(ctx: LocalStripe, invoice: Found): Promise<number> {
  return invoice.stripe_invoice_id ? paymentFailuresOf(ctx.sql, invoice.stripe_invoice_id) : 0;
}

/** The payment fails: invoice.payment_failed; the close starts (or goes on with) dunning. */
export async function failPayment(ctx: LocalStripe, ref: string): Promise<Found> {
  const invoice = await finalizeInvoice(ctx, ref);
  if (invoice.status === 'paid') throw new AppError('conflict', `Invoice ${invoice.id} is paid`);
  const computed = stripeInvoice(await stripeInvoiceInputFromRecords(ctx.sql, invoice));
  const attempt = (await failures(ctx, invoice)) + 1;
  await send(ctx, eventOf('invoice.payment_failed', invoice, invoice.stripe_invoice_id!, computed, { attemptCount: attempt }), `invoice ${invoice.id} (attempt ${attempt})`);
  const due = await until(ctx, `invoice ${invoice.id} to be past due`, async () => {
    const now = await reread(ctx, invoice);
    return now.status === 'past_due' ? now : undefined;
  });
  ctx.log(`invoice ${invoice.id} is past due: dunning retries follow (each answered by pay-invoice or fail-payment)`);
  return due;
}
