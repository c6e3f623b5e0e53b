/**
 * Stripe's side of many subscriptions at once, for the crash test and the period-close benchmark:
 * it watches what the service asked Stripe to do (the recorder in front of stripe-mock) and what it
 * wrote, and answers with the signed webhooks Stripe would send: subscription created and Checkout
 * completed after a checkout session, the renewal invoice after a period ends, `invoice.finalized`
 * after a finalize call, `invoice.paid` after that. It charges what the internal invoice says (it
 * stands in for Stripe computing the same total); the end-to-end test checks that total by hand.
 */
import { randomBytes } from 'node:crypto';
import type { Sql } from '../../src/shared/db.js';
import { recordedStripeRequests } from './stripe-recorder.js';
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
  private since = 0;
  private readonly finalized = new Set<string>();
  private tasks: Array<() => Promise<void>> = [];
  sent = 0;

  constructor(
    private readonly sql: Sql,
    private readonly recorderUrl: string,
    private readonly send: WebhookSink,
    private readonly opts: SimulatorOptions,
  ) {}

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
    for (const r of await recordedStripeRequests(this.recorderUrl, { path: '/v1/invoices/', since: this.since })) {
      const m = /^\/v1\/invoices\/([^/]+)\/finalize$/.exec(r.path);
      if (m) this.finalized.add(m[1]!);
    }
    this.since = Date.now() - 5_000;

    // Checkouts: Stripe creates the subscription and completes the session.
    const incomplete = await this.sql<{ id: string; team_id: string; seats: number; plan_version_id: string; stripe_checkout_session_id: string; stripe_customer_id: string }[]>`
      select s.id, s.team_id, s.seats, s.plan_version_id, s.stripe_checkout_session_id, bc.stripe_customer_id
      from subscriptions s join billing_customers bc on bc.team_id = s.team_id
      where s.status = 'incomplete' and s.stripe_checkout_session_id is not null and s.team_id = any(${this.opts.teamIds()})`;
    for (const s of incomplete) {
      this.once(`checkout:${s.id}`, async () => {
        const prices = await this.sql<{ component: string; stripe_price_id: string }[]>`
          select component, stripe_price_id from stripe_prices where plan_version_id = ${s.plan_version_id} and component in ('base', 'seat')`;
        const stripeSubscriptionId = `sub_sim_${randomBytes(8).toString('hex')}`;
        const now = new Date();
        const items = prices.map((p) => ({ id: `si_sim_${randomBytes(6).toString('hex')}`, priceId: p.stripe_price_id, quantity: p.component === 'seat' ? s.seats : 1 }));
        const periodEnd = (this.opts.firstPeriodEnd?.() ?? new Date(now.getTime() + 30 * 86_400_000)).toISOString();
        await this.send(subscriptionEvent('customer.subscription.created', { stripeSubscriptionId, subscriptionId: s.id, items, periodStart: now.toISOString(), periodEnd }));
        await this.send(checkoutCompleted({ sessionId: s.stripe_checkout_session_id, subscriptionId: s.id, stripeSubscriptionId, stripeCustomerId: s.stripe_customer_id }));
      });
    }

    // Invoices: renewal invoice → finalized (after our finalize call) → paid.
    const invoices = await this.sql<{ id: string; subscription_id: string; status: string; total_cents: bigint; stripe_invoice_id: string | null; period_start: Date; period_end: Date; stripe_subscription_id: string }[]>`
      select i.id, i.subscription_id, i.status, i.total_cents, i.stripe_invoice_id, i.period_start, i.period_end, s.stripe_subscription_id
      from invoices i join subscriptions s on s.id = i.subscription_id
      where i.status in ('draft', 'issued', 'awaiting_payment') and i.team_id = any(${this.opts.teamIds()})`;
    for (const i of invoices) {
      const ev = {
        stripeInvoiceId: i.stripe_invoice_id ?? `in_sim_${i.id.slice(4)}`,
        stripeSubscriptionId: i.stripe_subscription_id,
        subscriptionId: i.subscription_id,
        periodStart: i.period_start.toISOString(),
        periodEnd: i.period_end.toISOString(),
        totalCents: i.total_cents,
      };
      if (i.status === 'draft' && !i.stripe_invoice_id) this.once(`created:${i.id}`, () => this.send(invoiceEvent('invoice.created', { ...ev, totalCents: 0 })));
      if (i.status === 'issued' && i.stripe_invoice_id && this.finalized.has(i.stripe_invoice_id)) {
        this.once(`finalized:${i.id}`, () => this.send(invoiceEvent('invoice.finalized', ev)));
      }
      if (i.status === 'awaiting_payment') this.once(`paid:${i.id}`, () => this.send(invoiceEvent('invoice.paid', ev)));
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
