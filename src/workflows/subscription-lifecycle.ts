/**
 * One subscription, for its whole life (`subscription:<id>`): waits for Checkout to complete, mirrors
 * the Stripe subscription's periods, applies seat, add-on and plan changes to Stripe (with proration),
 * routes Stripe's invoice events to the close of the right period, starts that close as a child at
 * each period end, and continues as new once per period, after every handler has finished.
 *
 * This file is the orchestration only: which message is accepted, which step handles it, when the
 * period timer fires and when the run continues as new. The steps (activity sequences) are in
 * ./subscription-steps.ts, the state transitions (pure, table-tested) in ./subscription-state.ts.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { BillingPeriod, BillingState, SubscriptionId, TeamId } from '../shared/search-attributes.js';
import { ms } from './clock.js';
import { workflowClock, type TestClockTime } from './workflow-clock.js';
import { createSerial, RecentIds } from './serial.js';
import {
  cancelSignal,
  changeAddOnsSignal,
  changePlanUpdate,
  changeSeatsSignal,
  createCheckoutUpdate,
  periodOutcomeSignal,
  startSubscriptionUpdate,
  stripeEventSignal,
  subscriptionStateQuery,
  type ChangePlanRequest,
  type ProrationResult,
  type StartSubscriptionRequest,
  type StartSubscriptionResult,
  type SubscriptionTiming,
  type SubscriptionView,
} from './subscription-messages.js';
import {
  applyOutcome,
  awaitsActivation,
  decideStart,
  earlierPlanChange,
  isLive,
  periodDue,
  planChangeAllowed,
  rememberPlanChange,
  startDue,
  startPending,
  startResult,
  subscriptionView,
  type InboxMessage,
  type SubscriptionState,
} from './subscription-state.js';
import { cancel, changeItems, closePeriod, createCheckout, handleStripeEvent, startWithoutCheckout, untilDone, type SubscriptionRun } from './subscription-steps.js';

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
  /** The team's test clock (absent: wall time, as every run from before test clocks). */
  testClock?: TestClockTime | null;
}

export async function subscriptionLifecycle(input: SubscriptionLifecycleInput): Promise<SubscriptionView> {
  const { subscriptionId, teamId, timing } = input;
  const clock = workflowClock(input.testClock);
  const run: SubscriptionRun = { subscriptionId, teamId, timing, s: input.state, clock };
  const s = run.s;
  const seen = new RecentIds(s.seen, SEEN_IDS_MAX);
  const serial = createSerial();
  let messages = 0;

  const enqueue = (id: string, message: InboxMessage) => {
    if (!seen.add(id)) return;
    messages++;
    s.inbox.push(message);
  };
  const view = (): SubscriptionView => subscriptionView(subscriptionId, teamId, s);
  const notActive = () => ApplicationFailure.nonRetryable(`A ${s.status} subscription cannot change plan`, 'conflict');

  // Handlers first: messages that arrive with the first task are delivered to them.
  setHandler(stripeEventSignal, (event) => enqueue(`evt:${event.id}`, { kind: 'stripe', event }));
  setHandler(changeSeatsSignal, (request) => enqueue(`seats:${request.requestId}`, { kind: 'seats', request }));
  setHandler(changeAddOnsSignal, (request) => enqueue(`addons:${request.requestId}`, { kind: 'addOns', request }));
  setHandler(cancelSignal, (request) => enqueue(`cancel:${request.requestId}`, { kind: 'cancel', request }));
  setHandler(periodOutcomeSignal, (outcome) => enqueue(`outcome:${outcome.workflowId}:${outcome.outcome}`, { kind: 'outcome', outcome }));
  setHandler(subscriptionStateQuery, view);
  setHandler(createCheckoutUpdate, (request) => serial(() => createCheckout(run, request)), {
    validator: (request) => {
      if (!request.requestId || !request.successUrl || !request.cancelUrl) {
        throw ApplicationFailure.nonRetryable('requestId, successUrl and cancelUrl are required', 'validation_failed');
      }
    },
  });
  setHandler(startSubscriptionUpdate, (request) => serial(() => start(request)), {
    validator: (request) => {
      if (!request.requestId || (request.collection === 'send_invoice') !== (request.daysUntilDue !== null)) {
        throw ApplicationFailure.nonRetryable('requestId is required; daysUntilDue with send_invoice only', 'validation_failed');
      }
    },
  });
  setHandler(
    changePlanUpdate,
    // Queued behind an activation in progress, so it sees the subscription as it now is.
    (request) => serial(() => (planChangeAllowed(s, request.requestId) ? changePlan(request) : Promise.reject(notActive()))),
    {
      validator: (request) => {
        if (!request.requestId || !request.planVersionId) throw ApplicationFailure.nonRetryable('requestId and planVersionId are required', 'validation_failed');
        if (!planChangeAllowed(s, request.requestId, awaitsActivation(s))) throw notActive();
      },
    },
  );

  upsertSearchAttributes([
    { key: TeamId, value: teamId },
    { key: SubscriptionId, value: subscriptionId },
    { key: BillingState, value: s.status },
    ...(s.periodStart ? [{ key: BillingPeriod, value: s.periodStart }] : []),
  ]);

  async function changePlan(request: ChangePlanRequest): Promise<ProrationResult> {
    const earlier = earlierPlanChange(s, request.requestId);
    if (earlier) return earlier;
    const result = await changeItems(run, { kind: 'plan', request });
    if (!result) throw ApplicationFailure.nonRetryable('The plan change produced no proration', 'conflict');
    Object.assign(s, rememberPlanChange(s, result, PLAN_CHANGES_KEPT));
    return result;
  }

  /** An operator's start: at once (answered once active), or at its startsAt (answered as scheduled). */
  async function start(request: StartSubscriptionRequest): Promise<StartSubscriptionResult> {
    const decision = decideStart(s, request, clock.now());
    switch (decision.kind) {
      case 'refuse':
        throw ApplicationFailure.nonRetryable(decision.reason, 'conflict');
      case 'replay':
        return startResult(s);
      case 'schedule':
        s.start = decision.start;
        return startResult(s);
      case 'start':
        s.start = decision.start;
        return startWithoutCheckout(run);
    }
  }

  async function handle(message: InboxMessage): Promise<void> {
    switch (message.kind) {
      case 'stripe':
        return handleStripeEvent(run, message.event);
      case 'seats':
      case 'addOns':
        await changeItems(run, message);
        return;
      case 'cancel':
        return cancel(run, message.request);
      case 'outcome':
        Object.assign(s, applyOutcome(s, message.outcome));
        upsertSearchAttributes([{ key: BillingState, value: s.status }]);
        return;
    }
  }

  async function drain(): Promise<void> {
    for (let message = s.inbox.shift(); message; message = s.inbox.shift()) {
      const current = message;
      try {
        await serial(() => handle(current));
      } catch (err) {
        // A request Stripe or Postgres refuses for good (its activity failed non-retryably) is dropped
        // with a loud log; the subscription itself must go on.
        log.error('subscription message could not be applied', { kind: current.kind, error: String(err) });
      }
    }
  }

  const due = () => periodDue(s, clock.now());
  const waitShape = () => `${s.status}:${s.periodEnd ?? ''}:${s.start?.startsAt ?? ''}`;
  const runIsLong = () => messages >= MESSAGES_PER_RUN_MAX || workflowInfo().continueAsNewSuggested;
  for (;;) {
    // An update handler may start or schedule the subscription meanwhile: then wait again, on its instant.
    const shape = waitShape();
    const wake = () => s.inbox.length > 0 || due() || runIsLong() || startDue(s, clock.now()) || waitShape() !== shape;
    if (isLive(s) && s.periodEnd) await clock.until(wake, ms(s.periodEnd));
    else if (s.start && startPending(s)) await clock.until(wake, ms(s.start.startsAt));
    else await condition(wake);
    await drain();
    if (startDue(s, clock.now())) await untilDone(run, 'starting the subscription', () => serial(async () => void (await startWithoutCheckout(run))));
    const rolled = due();
    if (rolled) await untilDone(run, 'closing the period', () => serial(() => closePeriod(run)));
    if (s.status === 'canceled') {
      await condition(allHandlersFinished);
      await drain();
      return view();
    }
    if (rolled || runIsLong()) {
      await condition(allHandlersFinished);
      await drain();
      s.seen = seen.toArray();
      await continueAsNew<typeof subscriptionLifecycle>({ subscriptionId, teamId, timing, state: s, ...(clock.testClock ? { testClock: clock.testClock } : {}) });
    }
  }
}
