/**
 * The activity sequences of a subscription workflow: which activities, in which order, with which
 * idempotency keys. Each decides with a pure transition from ./subscription-state.ts and patches the
 * state only after its activities succeeded. The workflow (./subscription-lifecycle.ts) chooses which
 * step runs for which message, one at a time.
 */
import {
  ApplicationFailure,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { BillingPeriod, BillingState, SubscriptionId, TeamId } from '../shared/search-attributes.js';
import { closeBillingPeriod } from './close-billing-period.js';
import { iso, ms, wholeSecond } from './clock.js';
import { workflowIds } from './ids.js';
import { dbActivities, stripeActivities } from './activity-proxies.js';
import { nextPeriodEnd } from './periods.js';
import type { StripeEventSummary } from './stripe-event.js';
import type { WorkflowClock } from './workflow-clock.js';
import {
  invoiceEventSignal,
  type CancelRequest,
  type CheckoutRequest,
  type CheckoutResult,
  type ProrationResult,
  type StartSubscriptionResult,
  type SubscriptionTiming,
} from './subscription-messages.js';
import {
  activated,
  awaitsActivation,
  canceled,
  cancelApplies,
  closeStarted,
  firstPeriod,
  isLive,
  liveFacts,
  movedPeriodEnd,
  nextPeriod,
  observeStripeEvent,
  periodToClose,
  planItemChange,
  routeInvoiceEvent,
  startedWithoutCheckout,
  startResult,
  stripeDeleted,
  type ItemChangeRequest,
  type StatePatch,
  type SubscriptionState,
} from './subscription-state.js';

const db = dbActivities();
const stripe = stripeActivities();

/** One run of one subscription: its ids, its timing, and the state it carries across runs. */
export interface SubscriptionRun {
  subscriptionId: string;
  teamId: string;
  timing: SubscriptionTiming;
  s: SubscriptionState;
  /** Where "now" comes from: workflow time, or the team's test clock. */
  clock: WorkflowClock;
}

function apply(run: SubscriptionRun, patch: StatePatch): void {
  Object.assign(run.s, patch);
}

export async function createCheckout(run: SubscriptionRun, request: CheckoutRequest): Promise<CheckoutResult> {
  const { subscriptionId, s } = run;
  if (s.checkout) return s.checkout;
  const session = await stripe.createCheckoutSession({
    ...(await itemsRequest(run)),
    successUrl: request.successUrl,
    cancelUrl: request.cancelUrl,
    idempotencyKey: `checkout:${subscriptionId}`,
  });
  await db.recordCheckoutSession({ subscriptionId, ...session });
  apply(run, { checkout: session });
  return session;
}

/**
 * The operator's start without Checkout: Stripe's subscription created once (its key derived from the
 * subscription), collected by invoice or charged to the saved payment method, then activated by the
 * same step as a completed Checkout.
 */
export async function startWithoutCheckout(run: SubscriptionRun): Promise<StartSubscriptionResult> {
  const { subscriptionId, s } = run;
  const start = s.start;
  if (!start) throw ApplicationFailure.nonRetryable('No start was requested', 'conflict');
  if (!s.checkoutCompleted) {
    const created = await stripe.createStripeSubscription({
      ...(await itemsRequest(run)),
      addOns: s.addOns,
      collection: start.collection,
      daysUntilDue: start.daysUntilDue,
      startsAt: start.startsAt,
      idempotencyKey: `subscribe:${subscriptionId}`,
    });
    apply(run, startedWithoutCheckout(created));
  }
  if (awaitsActivation(s)) await activate(run);
  return startResult(s);
}

/** What a Stripe request about the subscription's items names: the team's customer and the components' prices, each created once. */
async function itemsRequest(run: SubscriptionRun) {
  const { subscriptionId, teamId, s } = run;
  const stripeCustomerId = await ensureStripeCustomer(teamId);
  const prices = await ensurePrices(s.planVersionId, s.addOns);
  return { subscriptionId, teamId, stripeCustomerId, prices, seats: s.seats };
}

async function ensureStripeCustomer(teamId: string): Promise<string> {
  // The same steps and key as provisionTeam: whichever runs first creates the customer.
  const existing = await db.findStripeCustomer({ teamId });
  if (existing) return existing;
  const idempotencyKey = `team:${teamId}:stripe-customer`;
  const created = await stripe.createStripeCustomer({ teamId, idempotencyKey });
  return db.recordStripeCustomer({ teamId, stripeCustomerId: created.id, idempotencyKey });
}

/** Stripe prices of every component, created once per (plan version, component) and recorded. */
async function ensurePrices(planVersionId: string, addOns: string[]): Promise<Record<string, string>> {
  const components = await db.stripePriceComponents({ planVersionId, addOns });
  const created: Record<string, { priceId: string; productId: string }> = {};
  for (const c of components) {
    if (c.stripePriceId) continue;
    created[c.component] = await stripe.createStripePrice({ planVersionId, component: c.component, idempotencyKey: `price:${planVersionId}:${c.component}` });
  }
  return db.recordStripePrices({ planVersionId, prices: created });
}

/**
 * The one path of seat, add-on and plan changes: prices if needed, the proration preview (plan),
 * Stripe's items updated with proration at the change's second, the change recorded, the state patched.
 * Returns the proration of a plan change; null when the request changes nothing.
 */
export async function changeItems(run: SubscriptionRun, request: ItemChangeRequest): Promise<ProrationResult | null> {
  const { subscriptionId, teamId, s } = run;
  const change = planItemChange(s, subscriptionId, request, run.clock.now());
  const live = liveFacts(s);
  if (!change) return null;
  if (!live) throw ApplicationFailure.nonRetryable(`A ${s.status} subscription cannot change its items`, 'conflict');
  const prices = change.needsPrices ? await ensurePrices(change.planVersionId, change.addOns) : null;
  const preview =
    change.kind === 'plan'
      ? await db.previewPlanChange({ subscriptionId, toPlanVersionId: change.planVersionId, effectiveAt: change.effectiveAt, periodStart: live.periodStart, periodEnd: live.periodEnd })
      : null;
  await stripe.updateStripeSubscriptionItems({
    stripeSubscriptionId: live.stripeSubscriptionId,
    items: await db.stripeItemChanges({ subscriptionId, prices, seats: change.seats, addOns: change.addOns }),
    prorationDate: change.effectiveAt,
    idempotencyKey: change.idempotencyKey,
  });
  const { kind, requestId, effectiveAt, detail, assignFrom } = change;
  await db.recordSubscriptionChange({ subscriptionId, teamId, requestId, kind, effectiveAt, detail, ...change.patch, ...(assignFrom ? { assignFrom } : {}) });
  apply(run, change.patch);
  return preview && { ...preview, requestId };
}

export async function cancel(run: SubscriptionRun, request: CancelRequest): Promise<void> {
  const { subscriptionId, teamId, s } = run;
  const live = liveFacts(s);
  if (!cancelApplies(s, request) || !live) return;
  const { requestId, atPeriodEnd } = request;
  await stripe.cancelStripeSubscription({ stripeSubscriptionId: live.stripeSubscriptionId, atPeriodEnd, idempotencyKey: `cancel:${subscriptionId}:${requestId}` });
  const effectiveAt = iso(wholeSecond(run.clock.now()));
  await db.recordSubscriptionChange({ subscriptionId, teamId, requestId, kind: 'cancel', effectiveAt, detail: { atPeriodEnd }, cancelAtPeriodEnd: true });
  apply(run, canceled(request, effectiveAt));
}

export async function handleStripeEvent(run: SubscriptionRun, event: StripeEventSummary): Promise<void> {
  if (event.invoice) return forwardInvoiceEvent(run, event);
  const { subscriptionId, teamId, timing, s } = run;
  apply(run, observeStripeEvent(s, event));
  if (event.subscription) {
    const newEnd = movedPeriodEnd(s, timing, event.subscription);
    if (newEnd && s.periodEnd) {
      await db.movePeriodEnd({ subscriptionId, teamId, periodEnd: s.periodEnd, newEnd, requestId: `period-end:${event.id}` });
      apply(run, { periodEnd: newEnd });
    }
    if (event.type === 'customer.subscription.deleted' && isLive(s)) apply(run, stripeDeleted(s, run.clock.now()));
  }
  if (awaitsActivation(s)) await untilDone(run, 'activating the subscription', () => activate(run));
}

async function activate(run: SubscriptionRun): Promise<void> {
  const { subscriptionId, teamId, timing, s } = run;
  if (!s.stripeSubscription && s.stripeSubscriptionId) {
    apply(run, { stripeSubscription: await stripe.retrieveStripeSubscription({ stripeSubscriptionId: s.stripeSubscriptionId }) });
  }
  const details = s.stripeSubscription;
  if (!details) return;
  const first = firstPeriod(timing, details, run.clock.now());
  const periodStart = first.periodStart;
  const periodEnd = first.periodEnd ?? (await nextEnd(run, periodStart));
  await db.activateSubscription({
    subscriptionId,
    teamId,
    planVersionId: s.planVersionId,
    stripeSubscriptionId: details.id,
    stripeItems: details.items,
    periodStart,
    periodEnd,
    periodMs: timing.periodMs,
    requestId: `activate:${details.id}`,
  });
  apply(run, activated(periodStart, periodEnd));
  upsertSearchAttributes([{ key: BillingState, value: s.status }, { key: BillingPeriod, value: periodStart }]);
}

async function nextEnd(run: SubscriptionRun, fromIso: string): Promise<string> {
  if (run.timing.periodMs !== null) return iso(ms(fromIso) + run.timing.periodMs);
  const interval = await db.planInterval({ planVersionId: run.s.planVersionId });
  return nextPeriodEnd(fromIso, interval);
}

async function forwardInvoiceEvent(run: SubscriptionRun, event: StripeEventSummary): Promise<void> {
  const route = routeInvoiceEvent(run.s, event);
  if (route.kind === 'unrouted') {
    log.info('Stripe invoice event for no open period close; recorded only', { eventId: event.id, invoiceId: event.invoice?.id, type: event.type });
    return;
  }
  apply(run, route.patch);
  if (route.kind === 'forward') await forward(route.workflowId, event);
}

async function forward(workflowId: string, event: StripeEventSummary): Promise<void> {
  try {
    await getExternalWorkflowHandle(workflowId).signal(invoiceEventSignal, event);
  } catch (err) {
    // The close already finished (paid, or failed loudly): nothing waits for this event any more.
    log.warn('could not forward invoice event to period close', { workflowId, eventId: event.id, error: String(err) });
  }
}

/**
 * Closes the current period: rolls the usage period first, starts the close as a child that outlives
 * this run, hands it the invoice events that came early, then moves on to the next period or ends.
 */
export async function closePeriod(run: SubscriptionRun): Promise<void> {
  const { subscriptionId, teamId, timing, s } = run;
  const period = periodToClose(s);
  if (!period) throw ApplicationFailure.nonRetryable(`A ${s.status} subscription has no period to close`, 'conflict');
  const { periodStart, periodEnd, final } = period;
  const next = final ? null : await nextEnd(run, periodEnd);
  // The next period first, so usage arriving from now on never lands outside a usage period.
  if (next) await db.rollSubscriptionPeriod({ subscriptionId, teamId, periodStart: periodEnd, periodEnd: next, periodMs: timing.periodMs, requestId: `period:${periodEnd}` });
  const workflowId = workflowIds.period(subscriptionId, periodStart);
  await startChild(closeBillingPeriod, {
    workflowId,
    args: [
      {
        subscriptionId,
        teamId,
        parentWorkflowId: workflowInfo().workflowId,
        periodStart,
        periodEnd,
        nextPeriodEnd: next,
        mode: final ? 'final' : 'renewal',
        timing,
        // The close follows the team's test clock too, from the clock's time now.
        ...(run.clock.testClock ? { testClock: { ...run.clock.testClock } } : {}),
      },
    ],
    // The close outlives this run (continue-as-new) and waits for payment on its own.
    parentClosePolicy: ParentClosePolicy.ABANDON,
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    typedSearchAttributes: [
      { key: TeamId, value: teamId },
      { key: SubscriptionId, value: subscriptionId },
      { key: BillingPeriod, value: periodStart },
    ],
  });
  const started = closeStarted(s, { workflowId, periodStart, periodEnd, stripeInvoiceId: null });
  apply(run, started.patch);
  for (const event of started.early) await forward(workflowId, event);
  if (final) await db.endSubscription({ subscriptionId, teamId, endedAt: periodEnd, requestId: `end:${periodEnd}` });
  apply(run, nextPeriod(periodEnd, next));
  upsertSearchAttributes([{ key: BillingState, value: s.status }, { key: BillingPeriod, value: s.periodStart ?? periodStart }]);
}

/**
 * Steps the subscription cannot skip (closing a period, activating) are retried until they pass:
 * transient failures are retried by the activity's policy; a refusal blocks the subscription
 * visibly (BillingState = blocked) and is tried again with growing pauses, never dropped.
 */
export async function untilDone(run: SubscriptionRun, what: string, fn: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await fn();
      if (attempt > 1) upsertSearchAttributes([{ key: BillingState, value: run.s.status }]);
      return;
    } catch (err) {
      log.error(`${what} failed; retrying`, { attempt, error: String(err) });
      upsertSearchAttributes([{ key: BillingState, value: 'blocked' }]);
      await sleep(Math.min(60_000 * 2 ** (attempt - 1), 6 * 60 * 60_000));
    }
  }
}
