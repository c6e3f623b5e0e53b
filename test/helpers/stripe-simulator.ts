/**
 * Stripe's side of many subscriptions at once, for end-to-end tests, the crash test and the
 * period-close benchmark: it watches what the service asked Stripe to do (the recorder in front of
 * stripe-mock) and what it wrote, and answers with the signed webhooks Stripe would send: subscription
 * created and Checkout completed after a checkout session, the renewal invoice after a period ends,
 * `invoice.finalized` after a finalize call, `invoice.paid` after that. Its totals are Stripe's
 * arithmetic (src/dev/stripe-invoice-model.ts) on the requests that reached Stripe
 * (stripe-recorded-view.ts), never our internal invoice's: a line we got wrong fails reconciliation.
 */
import { randomBytes } from 'node:crypto';
import type { Sql } from '../../src/shared/db.js';
import { stripeInvoice } from '../../src/dev/stripe-invoice-model.js';
import { RecordedStripe } from './stripe-recorded-view.js';
import { checkoutCompleted, invoiceEvent, subscriptionEvent } from './stripe-webhooks.js';

export interface WebhookSink {
  (event: Record<string, unknown>): Promise<void>;
}

export interface SimulatorOptions {
  /** The teams this simulated Stripe serves; other tests' subscriptions are not its business. */
  teamIds: () => readonly string[];
  /** The end of the first period Stripe reports for a new subscription (default: in 30 days). */
  firstPeriodEnd?: () => Date;
  /** Webhooks sent at once. */
  concurrency?: number;
}

export class StripeSimulator {
  private readonly done = new Set<string>();
  private readonly stripe: RecordedStripe;
  private tasks: Array<() => Promise<void>> = [];
  sent = 0;

  constructor(
    private readonly sql: Sql,
    recorderUrl: string,
    private readonly send: WebhookSink,
    private readonly opts: SimulatorOptions,
  ) {
    this.stripe = new RecordedStripe(recorderUrl);
  }

  /** Queues `fn` for this pass unless it ran before; a failed one is tried again next pass. */
  private once(key: string, fn: () => Promise<void>): void {
    if (this.done.has(key)) return;
    this.done.add(key);
    this.tasks.push(async () => {
      try {
        await fn();
        this.sent++;
      } catch (err) {
        this.done.delete(key);
        throw err;
      }
    });
  }

  private async flush(): Promise<void> {
    const tasks = this.tasks;
    this.tasks = [];
    const limit = this.opts.concurrency ?? 8;
    let next = 0;
    const errors: unknown[] = [];
    await Promise.all(
      Array.from({ length: Math.min(limit, tasks.length) }, async () => {
        while (next < tasks.length) await tasks[next++]!().catch((err: unknown) => errors.push(err));
      }),
    );
    if (errors.length > 0) throw errors[0];
  }

  /** One pass: answers everything that is waiting for Stripe. Returns how many webhooks it sent. */
  async tick(): Promise<number> {
    const before = this.sent;
    await this.stripe.refresh();

    // Checkouts: Stripe creates the subscription and completes the session.
    const incomplete = await this.sql<{ id: string; team_id: string; seats: number; plan_version_id: string; stripe_checkout_session_id: string; stripe_customer_id: string }[]>`
      select s.id, s.team_id, s.seats, s.plan_version_id, s.stripe_checkout_session_id, bc.stripe_customer_id
      from subscriptions s join billing_customers bc on bc.team_id = s.team_id
      where s.status = 'incomplete' and s.stripe_checkout_session_id is not null and s.team_id = any(${this.opts.teamIds()})`;
    for (const s of incomplete) {
      if (!this.stripe.checkoutItems.has(s.id)) continue; // its session request is not recorded yet
      this.once(`checkout:${s.id}`, async () => {
        const stripeSubscriptionId = `sub_sim_${randomBytes(8).toString('hex')}`;
        const now = new Date();
        // Stripe makes the subscription's items from the session's line items.
        const items = this.stripe.initialItems(s.id, stripeSubscriptionId);
        const periodEnd = (this.opts.firstPeriodEnd?.() ?? new Date(now.getTime() + 30 * 86_400_000)).toISOString();
        await this.send(subscriptionEvent('customer.subscription.created', { stripeSubscriptionId, subscriptionId: s.id, items, periodStart: now.toISOString(), periodEnd }));
        await this.send(checkoutCompleted({ sessionId: s.stripe_checkout_session_id, subscriptionId: s.id, stripeSubscriptionId, stripeCustomerId: s.stripe_customer_id }));
      });
    }

    // Invoices: renewal invoice → finalized (after our finalize call) → paid.
    const invoices = await this.sql<{ id: string; subscription_id: string; status: string; stripe_invoice_id: string | null; period_start: Date; period_end: Date; stripe_subscription_id: string }[]>`
      select i.id, i.subscription_id, i.status, i.stripe_invoice_id, i.period_start, i.period_end, s.stripe_subscription_id
      from invoices i join subscriptions s on s.id = i.subscription_id
      where i.status in ('draft', 'issued', 'awaiting_payment') and i.team_id = any(${this.opts.teamIds()})`;
    for (const i of invoices) {
      const stripeInvoiceId = i.stripe_invoice_id ?? `in_sim_${i.id.slice(4)}`;
      const [periodStart, periodEnd] = [i.period_start.toISOString(), i.period_end.toISOString()];
      // What Stripe's invoice holds at this moment: its lines and total, computed on Stripe's side.
      const event = (type: Parameters<typeof invoiceEvent>[0]) => {
        const invoice = stripeInvoice(
          this.stripe.invoiceInput({ invoiceId: i.id, subscriptionId: i.subscription_id, stripeSubscriptionId: i.stripe_subscription_id, stripeInvoiceId: i.stripe_invoice_id, periodStart, periodEnd }),
        );
        return invoiceEvent(type, { stripeInvoiceId, stripeSubscriptionId: i.stripe_subscription_id, subscriptionId: i.subscription_id, periodStart, periodEnd, ...invoice });
      };
      if (i.status === 'draft' && !i.stripe_invoice_id) this.once(`created:${i.id}`, () => this.send(event('invoice.created')));
      if (i.status === 'issued' && i.stripe_invoice_id && this.stripe.finalized.has(i.stripe_invoice_id)) {
        this.once(`finalized:${i.id}`, () => this.send(event('invoice.finalized')));
      }
      if (i.status === 'awaiting_payment') this.once(`paid:${i.id}`, () => this.send(event('invoice.paid')));
    }
    await this.flush();
    return this.sent - before;
  }

  /** Keeps answering every `intervalMs` until stopped. */
  run(intervalMs = 200): { stop(): Promise<void> } {
    let running = true;
    const loop = (async () => {
      while (running) {
        try {
          await this.tick();
        } catch {
          // A transient failure (e.g. the api restarting) is retried on the next pass.
        }
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
      },
    };
  }
}
