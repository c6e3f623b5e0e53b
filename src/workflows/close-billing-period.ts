/**
 * Closes one period of a subscription (`period:<subscriptionId>:<periodStart>`, started once by the
 * subscription; a duplicate id is rejected): freezes the period's usage, rates it into an internal
 * invoice with lines traceable to meters, price versions and the ledger, posts receivable and revenue,
 * puts the usage lines on the Stripe invoice with keys derived from each line, reconciles Stripe's
 * total with ours (a mismatch fails this workflow, loudly), then waits for payment and runs dunning.
 */
import {
  ApplicationFailure,
  condition,
  defineQuery,
  getExternalWorkflowHandle,
  log,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { BillingState } from '../shared/search-attributes.js';
import { dbActivities, stripeActivities } from './activity-proxies.js';
import type { StripeEventSummary } from './stripe-event.js';
import { invoiceEventSignal, periodOutcomeSignal, type PeriodOutcome, type SubscriptionTiming } from './subscription-messages.js';
import { clockAdvancedSignal, clockStateQuery } from './clock-messages.js';
import { workflowClock, type TestClockTime, type WorkflowClock } from './workflow-clock.js';
import type { RatedInvoice } from '../billing/rate-period.js';

const db = dbActivities();
const stripe = stripeActivities();

export interface CloseBillingPeriodInput {
  subscriptionId: string;
  teamId: string;
  parentWorkflowId: string;
  periodStart: string;
  periodEnd: string;
  /** End of the next period, whose fixed fees Stripe's renewal invoice charges in advance; null when final. */
  nextPeriodEnd: string | null;
  /** renewal: our usage lines join Stripe's renewal invoice; final: we create the (last) invoice. */
  mode: 'renewal' | 'final';
  timing: SubscriptionTiming;
  /** The team's test clock (absent: wall time): dunning delays and grace follow it. */
  testClock?: TestClockTime | null;
}

export type CloseStage =
  | 'rating'
  | 'awaiting_stripe_invoice'
  | 'pushing_lines'
  | 'awaiting_finalization'
  | 'reconciliation_mismatch'
  | 'awaiting_payment'
  | 'dunning'
  | 'restricted'
  | 'paid'
  | 'closed_without_charge';

export interface CloseView {
  stage: CloseStage;
  invoiceId: string | null;
  stripeInvoiceId: string | null;
  totalCents: string | null;
  paymentFailures: number;
}

export const closeStateQuery = defineQuery<CloseView>('closeState');

/** The running close: its view, its Stripe events and its clock, with the handlers that feed them. */
interface Close {
  input: CloseBillingPeriodInput;
  v: CloseView;
  clock: WorkflowClock;
  /** Moves to `next`, visible as BillingState in the UI. */
  stage(next: CloseStage): void;
  /** Runs `p` as a wait (for Stripe, a payment or a dunning instant): a test clock's advance may go on meanwhile. */
  waitFor<T>(p: () => Promise<T>): Promise<T>;
  /** The events of `type` about this close's Stripe invoice (any invoice until it is known). */
  ofInvoice(type: string): StripeEventSummary[];
  paidEvent(): StripeEventSummary | undefined;
  /** Payment failures so far (kept on the view). */
  failures(): number;
  /** Tells the subscription's workflow the outcome; the close is finished. */
  finish(outcome: PeriodOutcome['outcome']): Promise<CloseView>;
}

function openClose(input: CloseBillingPeriodInput): Close {
  const v: CloseView = { stage: 'rating', invoiceId: null, stripeInvoiceId: null, totalCents: null, paymentFailures: 0 };
  const events: StripeEventSummary[] = [];
  const seen = new Set<string>();
  setHandler(invoiceEventSignal, (event) => {
    if (seen.has(event.id)) return;
    seen.add(event.id);
    events.push(event);
  });
  setHandler(closeStateQuery, () => v);
  const clock = workflowClock(input.testClock);
  // Whether this close waits (for Stripe, a payment or a dunning instant) rather than works: a test clock's advance asks.
  let waiting = false;
  let finished = false;
  setHandler(clockAdvancedSignal, ({ testClockId, toMs }) => {
    if (testClockId === clock.testClock?.testClockId) clock.advanceTo(toMs);
  });
  setHandler(clockStateQuery, () => ({
    testClockId: clock.testClock?.testClockId ?? null,
    nowMs: clock.testClock?.nowMs ?? null,
    idle: waiting || finished,
    wakeAtMs: clock.wakeAtMs(),
    followers: [],
  }));
  const ofInvoice = (type: string) => events.filter((e) => e.type === type && (v.stripeInvoiceId === null || e.invoice?.id === v.stripeInvoiceId));
  return {
    input,
    v,
    clock,
    stage(next) {
      v.stage = next;
      upsertSearchAttributes([{ key: BillingState, value: next }]);
    },
    async waitFor(p) {
      waiting = true;
      try {
        return await p();
      } finally {
        waiting = false;
      }
    },
    ofInvoice,
    paidEvent: () => ofInvoice('invoice.paid')[0],
    failures() {
      v.paymentFailures = ofInvoice('invoice.payment_failed').length;
      return v.paymentFailures;
    },
    async finish(outcome) {
      await tellParent(input, outcome);
      finished = true;
      return v;
    },
  };
}

export async function closeBillingPeriod(input: CloseBillingPeriodInput): Promise<CloseView> {
  const c = openClose(input);
  c.stage('rating');
  const invoice = await db.invoicePeriod({
    subscriptionId: input.subscriptionId,
    periodStart: input.periodStart,
    periodEnd: input.periodEnd,
    nextPeriodEnd: input.nextPeriodEnd,
    mode: input.mode,
    workflowId: workflowInfo().workflowId,
  });
  c.v.invoiceId = invoice.invoiceId;
  c.v.totalCents = invoice.totalCents;

  if (input.mode === 'final' && invoice.totalCents === '0') {
    await db.setInvoiceStatus({ invoiceId: invoice.invoiceId, status: 'paid' });
    c.stage('closed_without_charge');
    return c.finish('closed_without_charge');
  }

  const stripeInvoiceId = await putOnStripeInvoice(c, invoice);
  await reconcileWithStripe(c, invoice.invoiceId, stripeInvoiceId);

  c.stage('awaiting_payment');
  await c.waitFor(() => condition(() => c.paidEvent() !== undefined || c.failures() > 0));
  if (c.paidEvent()) {
    await recordPaid(c, invoice.invoiceId);
    c.stage('paid');
    return c.finish('paid');
  }
  await dun(c, invoice.invoiceId, stripeInvoiceId);
  await recordPaid(c, invoice.invoiceId);
  await db.setBillingStatus({ invoiceId: invoice.invoiceId, invoiceStatus: 'paid', subscriptionStatus: 'active', subscriptionId: input.subscriptionId });
  c.stage('paid');
  return c.finish('recovered');
}

/** The Stripe invoice that will carry this period (Stripe's renewal invoice, or one we create), with our lines on it, finalized. */
async function putOnStripeInvoice(c: Close, invoice: RatedInvoice): Promise<string> {
  const { input, v } = c;
  if (input.mode === 'renewal') {
    c.stage('awaiting_stripe_invoice');
    while (!(await c.waitFor(() => condition(() => c.ofInvoice('invoice.created').length > 0, input.timing.stripeInvoiceWaitWarnMs)))) {
      log.warn('Stripe renewal invoice has not arrived', { invoiceId: invoice.invoiceId, periodEnd: input.periodEnd });
      upsertSearchAttributes([{ key: BillingState, value: 'stripe_invoice_late' }]);
    }
    v.stripeInvoiceId = c.ofInvoice('invoice.created')[0]!.invoice!.id;
  } else {
    v.stripeInvoiceId = await stripe.createStripeInvoice({ invoiceId: invoice.invoiceId, idempotencyKey: `stripe-invoice:${invoice.invoiceId}` });
  }
  const stripeInvoiceId = v.stripeInvoiceId;
  c.stage('pushing_lines');
  const items: { lineNo: number; stripeInvoiceItemId: string }[] = [];
  for (const line of invoice.linesToPush) {
    const stripeInvoiceItemId = await stripe.pushInvoiceItem({
      invoiceId: invoice.invoiceId,
      stripeInvoiceId,
      line,
      // One key per line, derived from the line: a retry after a crash cannot add it twice.
      idempotencyKey: `invoice-item:${invoice.invoiceId}:${line.lineNo}`,
    });
    items.push({ lineNo: line.lineNo, stripeInvoiceItemId });
  }
  await db.recordStripeInvoice({ invoiceId: invoice.invoiceId, stripeInvoiceId, items });
  await stripe.finalizeStripeInvoice({ stripeInvoiceId, idempotencyKey: `finalize:${invoice.invoiceId}` });
  return stripeInvoiceId;
}

/** Stripe's finalized total against ours: a mismatch fails the close, loudly. */
async function reconcileWithStripe(c: Close, invoiceId: string, stripeInvoiceId: string): Promise<void> {
  c.stage('awaiting_finalization');
  await c.waitFor(() => condition(() => c.ofInvoice('invoice.finalized').length > 0 || c.paidEvent() !== undefined));
  const finalized = c.ofInvoice('invoice.finalized')[0] ?? c.paidEvent()!;
  const reconciled = await db.reconcileInvoice({ invoiceId, stripeInvoiceId, stripeTotalCents: finalized.invoice!.totalCents });
  if (!reconciled.matched) {
    // Fail the workflow itself, not just an activity: the UI lists it as Failed, with both totals,
    // and the invoice row says `mismatch`. Nothing is charged or marked paid behind a wrong total.
    c.stage('reconciliation_mismatch');
    throw ApplicationFailure.create({
      type: 'invoice_total_mismatch',
      message: `Stripe invoice ${stripeInvoiceId} totals ${reconciled.stripeTotalCents} cents; internal invoice ${invoiceId} totals ${reconciled.internalTotalCents}`,
      nonRetryable: true,
      details: [reconciled],
    });
  }
}

/** Dunning: retries after configured delays, then a grace period, then restriction until paid. Returns once paid. */
async function dun(c: Close, invoiceId: string, stripeInvoiceId: string): Promise<void> {
  const { input } = c;
  c.stage('dunning');
  await db.setBillingStatus({ invoiceId, invoiceStatus: 'past_due', subscriptionStatus: 'past_due', subscriptionId: input.subscriptionId });
  await tellParent(input, 'payment_failed');
  for (const [i, delayMs] of input.timing.dunningRetryDelaysMs.entries()) {
    if (await c.waitFor(() => c.clock.within(() => c.paidEvent() !== undefined, delayMs))) break;
    try {
      await stripe.retryInvoicePayment({ stripeInvoiceId, idempotencyKey: `dunning:${invoiceId}:${i + 1}` });
    } catch (err) {
      // A decline is an answer, not an outage: the next retry (or the grace period) follows.
      log.info('dunning retry declined', { invoiceId, attempt: i + 1, error: String(err) });
    }
  }
  if (!c.paidEvent() && !(await c.waitFor(() => c.clock.within(() => c.paidEvent() !== undefined, input.timing.dunningGraceMs)))) {
    await db.setBillingStatus({ invoiceId, invoiceStatus: 'past_due', subscriptionStatus: 'restricted', subscriptionId: input.subscriptionId });
    c.stage('restricted');
    await tellParent(input, 'restricted');
    await c.waitFor(() => condition(() => c.paidEvent() !== undefined));
  }
}

async function recordPaid(c: Close, invoiceId: string): Promise<void> {
  const paid = c.paidEvent()!;
  await db.recordInvoicePayment({ invoiceId, stripeEventId: paid.id, amountPaidCents: paid.invoice!.amountPaidCents, paidAt: paid.createdAt });
}

async function tellParent(input: CloseBillingPeriodInput, outcome: PeriodOutcome['outcome']): Promise<void> {
  try {
    await getExternalWorkflowHandle(input.parentWorkflowId).signal(periodOutcomeSignal, {
      workflowId: workflowInfo().workflowId,
      periodStart: input.periodStart,
      outcome,
    });
  } catch (err) {
    // A canceled subscription's workflow may have ended; the outcome is in Postgres either way.
    log.info('subscription workflow did not take the period outcome', { outcome, error: String(err) });
  }
}
