/**
 * One subscription, for its whole life (`subscription:<id>`): waits for Checkout to complete, mirrors
 * the Stripe subscription's periods, applies seat, add-on and plan changes to Stripe (with proration),
 * routes Stripe's invoice events to the close of the right period, starts that close as a child at
 * each period end, and continues as new once per period, after every handler has finished.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { BillingPeriod, BillingState, SubscriptionId, TeamId } from '../shared/search-attributes.js';
import { closeBillingPeriod } from './close-billing-period.js';
import { iso, ms, nowMs, sameSecond, wholeSecond } from './clock.js';
import { workflowIds } from './ids.js';
import { DB_ACTIVITY, STRIPE_ACTIVITY } from './options.js';
import { nextPeriodEnd } from './periods.js';
import { createSerial, RecentIds } from './serial.js';
import type { StripeEventSummary } from './stripe-event.js';
import {
  cancelSignal,
  changeAddOnsSignal,
  changePlanUpdate,
  changeSeatsSignal,
  createCheckoutUpdate,
  periodOutcomeSignal,
  stripeEventSignal,
  subscriptionStateQuery,
  type ChangePlanRequest,
  type CheckoutRequest,
  type CheckoutResult,
  type ProrationResult,
  type SubscriptionTiming,
  type SubscriptionView,
  invoiceEventSignal,
} from './subscription-messages.js';
import type { InboxMessage, OpenClose, SubscriptionState } from './subscription-state.js';

const db = proxyActivities<Activities>(DB_ACTIVITY);
const stripe = proxyActivities<Activities>(STRIPE_ACTIVITY);

/** Message ids remembered for dedupe across runs. */
const SEEN_IDS_MAX = 500;
/** Continue as new well before the 10,000-signal and 2,000-update limits of one run. */
const MESSAGES_PER_RUN_MAX = 1_000;
const PLAN_CHANGES_KEPT = 20;

export interface SubscriptionLifecycleInput {
  subscriptionId: string;
  teamId: string;
  timing: SubscriptionTiming;
  state: SubscriptionState;
}

export async function subscriptionLifecycle(input: SubscriptionLifecycleInput): Promise<SubscriptionView> {
  const { subscriptionId, teamId, timing } = input;
  const s: SubscriptionState = input.state;
  const seen = new RecentIds(s.seen, SEEN_IDS_MAX);
  const serial = createSerial();
  let messages = 0;

  const enqueue = (id: string, message: InboxMessage) => {
    if (!seen.add(id)) return;
    messages++;
    s.inbox.push(message);
  };
  const view = (): SubscriptionView => ({
    subscriptionId,
    teamId,
    status: s.status,
    planVersionId: s.planVersionId,
    seats: s.seats,
    addOns: s.addOns,
    periodStart: s.periodStart,
    periodEnd: s.periodEnd,
    cancelAtPeriodEnd: s.cancelAtPeriodEnd,
    stripeSubscriptionId: s.stripeSubscriptionId,
    openPeriodCloses: s.closes.map((c) => c.workflowId),
  });

  // Handlers first: messages that arrive with the first task are delivered to them.
  setHandler(stripeEventSignal, (event) => enqueue(`evt:${event.id}`, { kind: 'stripe', event }));
  setHandler(changeSeatsSignal, (request) => enqueue(`seats:${request.requestId}`, { kind: 'seats', request }));
  setHandler(changeAddOnsSignal, (request) => enqueue(`addons:${request.requestId}`, { kind: 'addOns', request }));
  setHandler(cancelSignal, (request) => enqueue(`cancel:${request.requestId}`, { kind: 'cancel', request }));
  setHandler(periodOutcomeSignal, (outcome) => enqueue(`outcome:${outcome.workflowId}:${outcome.outcome}`, { kind: 'outcome', outcome }));
  setHandler(subscriptionStateQuery, view);
  setHandler(createCheckoutUpdate, (request) => serial(() => createCheckout(request)), {
    validator: (request) => {
      if (!request.requestId || !request.successUrl || !request.cancelUrl) {
        throw ApplicationFailure.nonRetryable('requestId, successUrl and cancelUrl are required', 'validation_failed');
      }
    },
  });
  setHandler(
    changePlanUpdate,
    (request) =>
      serial(() => {
        // Queued behind an activation in progress, so it sees the subscription as it now is.
        if (s.status !== 'active' && !s.planChanges.some((r) => r.requestId === request.requestId)) throw notActive();
        return changePlan(request);
      }),
    {
      validator: (request) => {
        if (!request.requestId || !request.planVersionId) throw ApplicationFailure.nonRetryable('requestId and planVersionId are required', 'validation_failed');
        const activating = s.status === 'incomplete' && s.checkoutCompleted;
        if (s.status !== 'active' && !activating && !s.planChanges.some((r) => r.requestId === request.requestId)) throw notActive();
      },
    },
  );
  function notActive(): ApplicationFailure {
    return ApplicationFailure.nonRetryable(`A ${s.status} subscription cannot change plan`, 'conflict');
  }

  upsertSearchAttributes([
    { key: TeamId, value: teamId },
    { key: SubscriptionId, value: subscriptionId },
    { key: BillingState, value: s.status },
    ...(s.periodStart ? [{ key: BillingPeriod, value: s.periodStart }] : []),
  ]);

  async function createCheckout(request: CheckoutRequest): Promise<CheckoutResult> {
    if (s.checkout) return s.checkout;
    const stripeCustomerId = await ensureStripeCustomer();
    const prices = await ensurePrices(s.planVersionId, s.addOns);
    const session = await stripe.createCheckoutSession({
      subscriptionId,
      teamId,
      stripeCustomerId,
      prices,
      seats: s.seats,
      successUrl: request.successUrl,
      cancelUrl: request.cancelUrl,
      idempotencyKey: `checkout:${subscriptionId}`,
    });
    await db.recordCheckoutSession({ subscriptionId, ...session });
    s.checkout = session;
    return session;
  }

  async function ensureStripeCustomer(): Promise<string> {
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

  async function changePlan(request: ChangePlanRequest): Promise<ProrationResult> {
    const earlier = s.planChanges.find((r) => r.requestId === request.requestId);
    if (earlier) return earlier;
    const now = nowMs();
    // Stripe prorates at whole seconds; the usage price assignment takes the exact instant, so two
    // changes within one second still follow each other.
    const effectiveAt = iso(wholeSecond(now));
    const prices = await ensurePrices(request.planVersionId, s.addOns);
    const preview = await db.previewPlanChange({
      subscriptionId,
      toPlanVersionId: request.planVersionId,
      effectiveAt,
      periodStart: s.periodStart!,
      periodEnd: s.periodEnd!,
    });
    await stripe.updateStripeSubscriptionItems({
      stripeSubscriptionId: s.stripeSubscriptionId!,
      items: await db.stripeItemChanges({ subscriptionId, prices, seats: s.seats, addOns: s.addOns }),
      prorationDate: effectiveAt,
      idempotencyKey: `plan:${subscriptionId}:${request.requestId}`,
    });
    await db.recordSubscriptionChange({
      subscriptionId,
      teamId,
      requestId: request.requestId,
      kind: 'plan',
      effectiveAt,
      detail: { from: s.planVersionId, to: request.planVersionId, seats: s.seats, addOns: s.addOns },
      planVersionId: request.planVersionId,
      assignFrom: iso(now),
    });
    const result: ProrationResult = { ...preview, requestId: request.requestId };
    s.planVersionId = request.planVersionId;
    s.planChanges = [...s.planChanges, result].slice(-PLAN_CHANGES_KEPT);
    return result;
  }

  async function handle(message: InboxMessage): Promise<void> {
    switch (message.kind) {
      case 'stripe':
        return handleStripeEvent(message.event);
      case 'seats': {
        const { requestId, seats } = message.request;
        if (!isLive() || seats === s.seats) return;
        const effectiveAt = iso(wholeSecond(nowMs()));
        await stripe.updateStripeSubscriptionItems({
          stripeSubscriptionId: s.stripeSubscriptionId!,
          items: await db.stripeItemChanges({ subscriptionId, prices: null, seats, addOns: s.addOns }),
          prorationDate: effectiveAt,
          idempotencyKey: `seats:${subscriptionId}:${requestId}`,
        });
        await db.recordSubscriptionChange({ subscriptionId, teamId, requestId, kind: 'seats', effectiveAt, detail: { from: s.seats, to: seats }, seats });
        s.seats = seats;
        return;
      }
      case 'addOns': {
        const { requestId, addOns } = message.request;
        const next = [...new Set(addOns)].sort();
        if (!isLive() || next.join() === s.addOns.join()) return;
        const effectiveAt = iso(wholeSecond(nowMs()));
        const prices = await ensurePrices(s.planVersionId, next);
        await stripe.updateStripeSubscriptionItems({
          stripeSubscriptionId: s.stripeSubscriptionId!,
          items: await db.stripeItemChanges({ subscriptionId, prices, seats: s.seats, addOns: next }),
          prorationDate: effectiveAt,
          idempotencyKey: `addons:${subscriptionId}:${requestId}`,
        });
        await db.recordSubscriptionChange({ subscriptionId, teamId, requestId, kind: 'add_ons', effectiveAt, detail: { from: s.addOns, to: next }, addOns: next });
        s.addOns = next;
        return;
      }
      case 'cancel': {
        const { requestId, atPeriodEnd } = message.request;
        if (!isLive() || (atPeriodEnd && s.cancelAtPeriodEnd)) return;
        await stripe.cancelStripeSubscription({
          stripeSubscriptionId: s.stripeSubscriptionId!,
          atPeriodEnd,
          idempotencyKey: `cancel:${subscriptionId}:${requestId}`,
        });
        const effectiveAt = iso(wholeSecond(nowMs()));
        await db.recordSubscriptionChange({ subscriptionId, teamId, requestId, kind: 'cancel', effectiveAt, detail: { atPeriodEnd }, cancelAtPeriodEnd: true });
        s.cancelAtPeriodEnd = true;
        // Cancelling now ends the period now: its usage is invoiced at once, on a final invoice.
        if (!atPeriodEnd) s.periodEnd = effectiveAt;
        return;
      }
      case 'outcome': {
        const { outcome } = message.outcome;
        if (outcome === 'payment_failed') s.status = s.status === 'canceled' ? s.status : 'past_due';
        if (outcome === 'restricted') s.status = s.status === 'canceled' ? s.status : 'restricted';
        if (outcome === 'recovered' || outcome === 'paid') {
          if (s.status === 'past_due' || s.status === 'restricted') s.status = 'active';
          s.closes = s.closes.filter((c) => c.workflowId !== message.outcome.workflowId);
        }
        if (outcome === 'closed_without_charge') s.closes = s.closes.filter((c) => c.workflowId !== message.outcome.workflowId);
        upsertSearchAttributes([{ key: BillingState, value: s.status }]);
        return;
      }
    }
  }

  async function handleStripeEvent(event: StripeEventSummary): Promise<void> {
    if (event.invoice) return routeInvoiceEvent(event);
    if (event.type === 'checkout.session.completed' && event.checkoutSession) {
      s.checkoutCompleted = true;
      s.stripeSubscriptionId = event.checkoutSession.stripeSubscriptionId ?? s.stripeSubscriptionId;
    }
    if (event.subscription) {
      s.stripeSubscriptionId ??= event.subscription.id;
      s.stripeSubscription = event.subscription;
      // Stripe moved the end of the current period (e.g. a new billing anchor): follow it, unless
      // the periods are driven by a fixed length. A later period (a renewal) is ours to roll.
      const { currentPeriodStart: stripeStart, currentPeriodEnd: stripeEnd } = event.subscription;
      if (timing.periodMs === null && isLive() && stripeStart && stripeEnd && s.periodStart && s.periodEnd && sameSecond(stripeStart, s.periodStart) && !sameSecond(stripeEnd, s.periodEnd)) {
        await db.movePeriodEnd({ subscriptionId, teamId, periodEnd: s.periodEnd, newEnd: stripeEnd, requestId: `period-end:${event.id}` });
        s.periodEnd = stripeEnd;
      }
      if (event.type === 'customer.subscription.deleted' && isLive()) {
        s.cancelAtPeriodEnd = true;
        s.periodEnd = iso(Math.min(nowMs(), ms(s.periodEnd!)));
      }
    }
    if (s.status === 'incomplete' && s.checkoutCompleted) await untilDone('activating the subscription', activate);
  }

  async function activate(): Promise<void> {
    if (!s.stripeSubscription && s.stripeSubscriptionId) {
      s.stripeSubscription = await stripe.retrieveStripeSubscription({ stripeSubscriptionId: s.stripeSubscriptionId });
    }
    const details = s.stripeSubscription;
    if (!details) return;
    const now = wholeSecond(nowMs());
    const periodStart = timing.periodMs !== null ? iso(now) : (details.currentPeriodStart ?? iso(now));
    const periodEnd =
      timing.periodMs !== null ? iso(now + timing.periodMs) : (details.currentPeriodEnd ?? (await nextEnd(periodStart)));
    await db.activateSubscription({
      subscriptionId,
      teamId,
      planVersionId: s.planVersionId,
      stripeSubscriptionId: details.id,
      stripeItems: details.items,
      periodStart,
      periodEnd,
      requestId: `activate:${details.id}`,
    });
    s.status = 'active';
    s.periodStart = periodStart;
    s.periodEnd = periodEnd;
    upsertSearchAttributes([{ key: BillingState, value: s.status }, { key: BillingPeriod, value: periodStart }]);
  }

  async function nextEnd(fromIso: string): Promise<string> {
    if (timing.periodMs !== null) return iso(ms(fromIso) + timing.periodMs);
    const interval = await db.planInterval({ planVersionId: s.planVersionId });
    return nextPeriodEnd(fromIso, interval);
  }

  function routeInvoiceEvent(event: StripeEventSummary): Promise<void> {
    const invoice = event.invoice!;
    let target = s.closes.find((c) => c.stripeInvoiceId === invoice.id);
    if (!target && event.type === 'invoice.created' && invoice.periodStart) {
      // Stripe's renewal invoice covers (period_start, period_end) of the period that just ended.
      target = s.closes.find((c) => c.stripeInvoiceId === null && sameSecond(c.periodStart, invoice.periodStart!));
      if (target) target.stripeInvoiceId = invoice.id;
      else if (s.periodStart && sameSecond(invoice.periodStart, s.periodStart)) {
        // Stripe was quicker than our period timer: hold it for the close about to start.
        s.pendingInvoiceEvents.push(event);
        return Promise.resolve();
      }
    }
    if (!target) {
      log.info('Stripe invoice event for no open period close; recorded only', { eventId: event.id, invoiceId: invoice.id, type: event.type });
      return Promise.resolve();
    }
    return forward(target, event);
  }

  async function forward(target: OpenClose, event: StripeEventSummary): Promise<void> {
    try {
      await getExternalWorkflowHandle(target.workflowId).signal(invoiceEventSignal, event);
    } catch (err) {
      // The close already finished (paid, or failed loudly): nothing waits for this event any more.
      log.warn('could not forward invoice event to period close', { workflowId: target.workflowId, eventId: event.id, error: String(err) });
    }
  }

  async function closePeriod(): Promise<void> {
    const periodStart = s.periodStart!;
    const periodEnd = s.periodEnd!;
    const final = s.cancelAtPeriodEnd;
    const next = final ? null : await nextEnd(periodEnd);
    // The next period first, so usage arriving from now on never lands outside a usage period.
    if (next) await db.rollSubscriptionPeriod({ subscriptionId, teamId, periodStart: periodEnd, periodEnd: next, requestId: `period:${periodEnd}` });
    const workflowId = workflowIds.period(subscriptionId, periodStart);
    const close: OpenClose = { workflowId, periodStart, periodEnd, stripeInvoiceId: null };
    await startChild(closeBillingPeriod, {
      workflowId,
      args: [{ subscriptionId, teamId, parentWorkflowId: workflowInfo().workflowId, periodStart, periodEnd, nextPeriodEnd: next, mode: final ? 'final' : 'renewal', timing }],
      // The close outlives this run (continue-as-new) and waits for payment on its own.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: [
        { key: TeamId, value: teamId },
        { key: SubscriptionId, value: subscriptionId },
        { key: BillingPeriod, value: periodStart },
      ],
    });
    s.closes.push(close);
    const early = s.pendingInvoiceEvents.filter((e) => e.invoice?.periodStart && sameSecond(e.invoice.periodStart, periodStart));
    s.pendingInvoiceEvents = s.pendingInvoiceEvents.filter((e) => !early.includes(e));
    for (const event of early) {
      close.stripeInvoiceId ??= event.invoice!.id;
      await forward(close, event);
    }
    if (final) {
      await db.endSubscription({ subscriptionId, teamId, endedAt: periodEnd, requestId: `end:${periodEnd}` });
      s.status = 'canceled';
      s.periodStart = null;
      s.periodEnd = null;
    } else {
      s.periodStart = periodEnd;
      s.periodEnd = next;
    }
    upsertSearchAttributes([{ key: BillingState, value: s.status }, { key: BillingPeriod, value: s.periodStart ?? periodStart }]);
  }

  function isLive(): boolean {
    return s.status === 'active' || s.status === 'past_due' || s.status === 'restricted';
  }
  const periodDue = () => isLive() && s.periodEnd !== null && nowMs() >= ms(s.periodEnd);
  const runIsLong = () => messages >= MESSAGES_PER_RUN_MAX || workflowInfo().continueAsNewSuggested;

  async function drain(): Promise<void> {
    while (s.inbox.length > 0) {
      const message = s.inbox.shift()!;
      try {
        await serial(() => handle(message));
      } catch (err) {
        // A request Stripe or Postgres refuses for good (its activity failed non-retryably) is dropped
        // with a loud log; the subscription itself must go on.
        log.error('subscription message could not be applied', { kind: message.kind, error: String(err) });
      }
    }
  }

  /**
   * Steps the subscription cannot skip (closing a period, activating) are retried until they pass:
   * transient failures are retried by the activity's policy; a refusal blocks the subscription
   * visibly (BillingState = blocked) and is tried again with growing pauses, never dropped.
   */
  async function untilDone(what: string, fn: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await fn();
        if (attempt > 1) upsertSearchAttributes([{ key: BillingState, value: s.status }]);
        return;
      } catch (err) {
        log.error(`${what} failed; retrying`, { attempt, error: String(err) });
        upsertSearchAttributes([{ key: BillingState, value: 'blocked' }]);
        await sleep(Math.min(60_000 * 2 ** (attempt - 1), 6 * 60 * 60_000));
      }
    }
  }

  for (;;) {
    const wake = () => s.inbox.length > 0 || periodDue() || runIsLong();
    if (isLive() && s.periodEnd) await condition(wake, Math.max(1, ms(s.periodEnd) - nowMs()));
    else await condition(wake);
    await drain();
    let rolled = false;
    if (periodDue()) {
      await untilDone('closing the period', () => serial(closePeriod));
      rolled = true;
    }
    if (s.status === 'canceled') {
      await condition(allHandlersFinished);
      await drain();
      return view();
    }
    if (rolled || runIsLong()) {
      await condition(allHandlersFinished);
      await drain();
      s.seen = seen.toArray();
      await continueAsNew<typeof subscriptionLifecycle>({ subscriptionId, teamId, timing, state: s });
    }
  }
}
