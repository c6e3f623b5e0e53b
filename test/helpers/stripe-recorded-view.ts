/**
 * What Stripe would know, rebuilt from the requests that reached it (the recorder in front of
 * stripe-mock): prices by the parameters they were created with, each Checkout session's line items,
 * every update of a subscription's items at its proration date, the invoice items put on each
 * invoice. A request repeated with the same idempotency key counts once, as at Stripe. Independent of
 * our tables, so the simulated Stripe's totals (stripe-invoice-model.ts) check ours for real.
 */
import { itemIds } from '../../src/dev/stripe-event-payloads.js';
import { priceFromParams, type StripeInvoiceInput, type StripeItem, type StripePriceDef } from '../../src/dev/stripe-invoice-model.js';
import { recordedStripeRequests, type RecordedRequest } from './stripe-recorder.js';

type Form = Record<string, unknown>;

/** Stripe's form encoding (`items[0][price]=…`) back into objects and arrays. */
export function parseForm(body: string): Form {
  const root: Form = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const path = key.replace(/]/g, '').split('[');
    let node: Record<string, unknown> = root;
    path.forEach((segment, i) => {
      if (i === path.length - 1) node[segment] = value;
      else node = (node[segment] ??= /^\d+$/.test(path[i + 1]!) ? [] : {}) as Record<string, unknown>;
    });
  }
  return root;
}

interface ItemUpdate {
  at: string;
  items: { id?: string; price?: string; quantity?: string; deleted?: string }[];
}

export class RecordedStripe {
  private after = 0;
  private readonly keys = new Set<string>();
  readonly prices = new Map<string, StripePriceDef>();
  /** Line items of the Checkout session of each of our subscriptions (metadata.subscription_id). */
  readonly checkoutItems = new Map<string, { priceId: string; quantity: number }[]>();
  private readonly updates = new Map<string, ItemUpdate[]>();
  private readonly invoiceItems = new Map<string, { description: string; amountCents: bigint }[]>();
  /** Stripe invoices we created ourselves (final invoices), by our invoice id. */
  private readonly createdInvoices = new Set<string>();
  readonly finalized = new Set<string>();

  constructor(private readonly recorderUrl: string) {}

  /** Takes in the requests that arrived since the last call. */
  async refresh(): Promise<void> {
    const requests = await recordedStripeRequests(this.recorderUrl, { after: this.after });
    for (const r of requests) {
      this.after = Math.max(this.after, r.seq);
      if (r.method === 'POST' && r.status === 200) this.take(r);
    }
  }

  private take(r: RecordedRequest): void {
    const form = parseForm(r.body);
    if (r.path === '/v1/prices' && r.responseId) this.prices.set(r.responseId, priceFromParams(r.responseId, form));
    // Stripe applies a request once per idempotency key; a retry with the same key changes nothing.
    if (r.idempotencyKey && this.keys.has(`${r.path}|${r.idempotencyKey}`)) return;
    if (r.idempotencyKey) this.keys.add(`${r.path}|${r.idempotencyKey}`);
    const metadata = (form.metadata ?? {}) as Record<string, string>;
    if (r.path === '/v1/checkout/sessions' && metadata.subscription_id) {
      const lines = (form.line_items ?? []) as { price: string; quantity: string }[];
      this.checkoutItems.set(metadata.subscription_id, lines.map((l) => ({ priceId: l.price, quantity: Number(l.quantity) })));
    }
    // An operator's start without Checkout: Stripe creates the subscription with these items directly.
    if (r.path === '/v1/subscriptions' && metadata.subscription_id) {
      const lines = (form.items ?? []) as { price: string; quantity: string }[];
      this.checkoutItems.set(metadata.subscription_id, lines.map((l) => ({ priceId: l.price, quantity: Number(l.quantity) })));
    }
    const update = /^\/v1\/subscriptions\/([^/]+)$/.exec(r.path);
    if (update && form.items && form.proration_date) {
      const list = this.updates.get(update[1]!) ?? [];
      list.push({ at: new Date(Number(form.proration_date) * 1000).toISOString(), items: form.items as ItemUpdate['items'] });
      this.updates.set(update[1]!, list);
    }
    if (r.path === '/v1/invoiceitems' && typeof form.invoice === 'string') {
      const list = this.invoiceItems.get(form.invoice) ?? [];
      list.push({ description: String(form.description ?? ''), amountCents: BigInt(String(form.amount)) });
      this.invoiceItems.set(form.invoice, list);
    }
    if (r.path === '/v1/invoices' && metadata.invoice_id) this.createdInvoices.add(metadata.invoice_id);
    const finalize = /^\/v1\/invoices\/([^/]+)\/finalize$/.exec(r.path);
    if (finalize) this.finalized.add(finalize[1]!);
  }

  /** The items Stripe gives a subscription created by our subscription's Checkout. */
  initialItems(subscriptionId: string, stripeSubscriptionId: string): (Omit<StripeItem, 'key'> & { id: string })[] {
    const lines = this.checkoutItems.get(subscriptionId);
    if (!lines) throw new Error(`No Checkout session of ${subscriptionId} reached Stripe`);
    return itemIds(stripeSubscriptionId, lines);
  }

  /** Stripe's side of the invoice of our period [periodStart, periodEnd). */
  invoiceInput(o: { invoiceId: string; subscriptionId: string; stripeSubscriptionId: string; stripeInvoiceId: string | null; periodStart: string; periodEnd: string }): StripeInvoiceInput {
    let items: StripeItem[] = this.initialItems(o.subscriptionId, o.stripeSubscriptionId).map((i) => ({ key: i.id, priceId: i.priceId, quantity: i.quantity }));
    let itemsAtStart = items;
    const changes: StripeInvoiceInput['changes'] = [];
    for (const [n, update] of (this.updates.get(o.stripeSubscriptionId) ?? []).entries()) {
      const next = new Map(items.map((i) => [i.key, { ...i }]));
      for (const [k, change] of update.items.entries()) {
        if (change.id && change.deleted === 'true') next.delete(change.id);
        else if (change.id && next.has(change.id)) {
          const item = next.get(change.id)!;
          next.set(change.id, { ...item, priceId: change.price ?? item.priceId, quantity: change.quantity === undefined ? item.quantity : Number(change.quantity) });
        } else next.set(change.id ?? `new_${n}_${k}`, { key: change.id ?? `new_${n}_${k}`, priceId: change.price!, quantity: Number(change.quantity ?? 1) });
      }
      items = [...next.values()];
      if (update.at < o.periodStart) itemsAtStart = items;
      else if (update.at < o.periodEnd) changes.push({ at: update.at, items });
    }
    return {
      prices: this.prices,
      periodStart: o.periodStart,
      periodEnd: o.periodEnd,
      itemsAtStart,
      changes,
      renews: !this.createdInvoices.has(o.invoiceId),
      invoiceItems: o.stripeInvoiceId ? (this.invoiceItems.get(o.stripeInvoiceId) ?? []) : [],
    };
  }
}
