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
import { workflowClock, type TestClockTime, type WorkflowClock } from './workflow-clock.js';
import { clockAdvancedSignal, clockStateQuery } from './clock-messages.js';
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

/** One run of the workflow: its state, the steps' context, and what a test clock's advance asks about. */
interface Lifecycle {
  input: SubscriptionLifecycleInput;
  run: SubscriptionRun;
  s: SubscriptionState;
  clock: WorkflowClock;
  seen: RecentIds;
  /** Runs one step at a time, in arrival order. */
  serial<T>(fn: () => Promise<T>): Promise<T>;
  /** Steps queued or running. */
  pending: number;
  /** Whether the main loop is waiting. */
  waiting: boolean;
  /** Messages taken this run (the run continues as new after MESSAGES_PER_RUN_MAX). */
  messages: number;
}

function openLifecycle(input: SubscriptionLifecycleInput): Lifecycle {
  const { subscriptionId, teamId, timing } = input;
  const clock = workflowClock(input.testClock);
  const run: SubscriptionRun = { subscriptionId, teamId, timing, s: input.state, clock };
  const oneAtATime = createSerial();
  const l: Lifecycle = {
    input,
    run,
    s: run.s,
    clock,
    seen: new RecentIds(run.s.seen, SEEN_IDS_MAX),
    serial: (fn) => {
      l.pending++;
      return oneAtATime(fn).finally(() => void l.pending--);
    },
    pending: 0,
    waiting: false,
    messages: 0,
  };
  return l;
}

const view = (l: Lifecycle): SubscriptionView => subscriptionView(l.input.subscriptionId, l.input.teamId, l.s);
const notActive = (l: Lifecycle) => ApplicationFailure.nonRetryable(`A ${l.s.status} subscription cannot change plan`, 'conflict');

/** Every signal, query and update the workflow takes. Handlers first: messages that arrive with the first task are delivered to them. */
function acceptMessages(l: Lifecycle): void {
  const { s, clock } = l;
  const enqueue = (id: string, message: InboxMessage) => {
    if (!l.seen.add(id)) return;
    l.messages++;
    s.inbox.push(message);
  };
  setHandler(stripeEventSignal, (event) => enqueue(`evt:${event.id}`, { kind: 'stripe', event }));
  setHandler(changeSeatsSignal, (request) => enqueue(`seats:${request.requestId}`, { kind: 'seats', request }));
  setHandler(changeAddOnsSignal, (request) => enqueue(`addons:${request.requestId}`, { kind: 'addOns', request }));
  setHandler(cancelSignal, (request) => enqueue(`cancel:${request.requestId}`, { kind: 'cancel', request }));
  setHandler(periodOutcomeSignal, (outcome) => enqueue(`outcome:${outcome.workflowId}:${outcome.outcome}`, { kind: 'outcome', outcome }));
  setHandler(subscriptionStateQuery, () => view(l));
  setHandler(clockAdvancedSignal, ({ testClockId, toMs }) => {
    if (testClockId === clock.testClock?.testClockId) clock.advanceTo(toMs);
  });
  setHandler(clockStateQuery, () => ({
    testClockId: clock.testClock?.testClockId ?? null,
    nowMs: clock.testClock?.nowMs ?? null,
    idle: l.waiting && l.pending === 0 && !wakeNow(l),
    wakeAtMs: clock.wakeAtMs(),
    followers: s.closes.map((c) => c.workflowId),
  }));
  setHandler(createCheckoutUpdate, (request) => l.serial(() => createCheckout(l.run, request)), {
    validator: (request) => {
      if (!request.requestId || !request.successUrl || !request.cancelUrl) {
        throw ApplicationFailure.nonRetryable('requestId, successUrl and cancelUrl are required', 'validation_failed');
      }
    },
  });
  setHandler(startSubscriptionUpdate, (request) => l.serial(() => start(l, request)), {
    validator: (request) => {
      if (!request.requestId || (request.collection === 'send_invoice') !== (request.daysUntilDue !== null)) {
        throw ApplicationFailure.nonRetryable('requestId is required; daysUntilDue with send_invoice only', 'validation_failed');
      }
    },
  });
  setHandler(
    changePlanUpdate,
    // Queued behind an activation in progress, so it sees the subscription as it now is.
    (request) => l.serial(() => (planChangeAllowed(s, request.requestId) ? changePlan(l, request) : Promise.reject(notActive(l)))),
    {
      validator: (request) => {
        if (!request.requestId || !request.planVersionId) throw ApplicationFailure.nonRetryable('requestId and planVersionId are required', 'validation_failed');
        if (!planChangeAllowed(s, request.requestId, awaitsActivation(s))) throw notActive(l);
      },
    },
  );
}

export async function subscriptionLifecycle(input: SubscriptionLifecycleInput): Promise<SubscriptionView> {
  const { subscriptionId, teamId, timing } = input;
  const l = openLifecycle(input);
  const { run, s, clock } = l;
  acceptMessages(l);

  upsertSearchAttributes([
    { key: TeamId, value: teamId },
    { key: SubscriptionId, value: subscriptionId },
    { key: BillingState, value: s.status },
    ...(s.periodStart ? [{ key: BillingPeriod, value: s.periodStart }] : []),
  ]);

  for (;;) {
    // An update handler may start or schedule the subscription meanwhile: then wait again, on its instant.
    const shape = waitShape(l);
    const wake = () => wakeNow(l) || waitShape(l) !== shape;
    l.waiting = true;
    if (isLive(s) && s.periodEnd) await clock.until(wake, ms(s.periodEnd));
    else if (s.start && startPending(s)) await clock.until(wake, ms(s.start.startsAt));
    else await condition(wake);
    l.waiting = false;
    await drain(l);
    if (startDue(s, clock.now())) await untilDone(run, 'starting the subscription', () => l.serial(async () => void (await startWithoutCheckout(run))));
    const rolled = due(l);
    if (rolled) await untilDone(run, 'closing the period', () => l.serial(() => closePeriod(run)));
    if (s.status === 'canceled') {
      await condition(allHandlersFinished);
      await drain(l);
      return view(l);
    }
    if (rolled || runIsLong(l)) {
      await condition(allHandlersFinished);
      await drain(l);
      s.seen = l.seen.toArray();
      await continueAsNew<typeof subscriptionLifecycle>({ subscriptionId, teamId, timing, state: s, ...(clock.testClock ? { testClock: clock.testClock } : {}) });
    }
  }
}

async function changePlan(l: Lifecycle, request: ChangePlanRequest): Promise<ProrationResult> {
  const earlier = earlierPlanChange(l.s, request.requestId);
  if (earlier) return earlier;
  const result = await changeItems(l.run, { kind: 'plan', request });
  if (!result) throw ApplicationFailure.nonRetryable('The plan change produced no proration', 'conflict');
  Object.assign(l.s, rememberPlanChange(l.s, result, PLAN_CHANGES_KEPT));
  return result;
}

/** An operator's start: at once (answered once active), or at its startsAt (answered as scheduled). */
async function start(l: Lifecycle, request: StartSubscriptionRequest): Promise<StartSubscriptionResult> {
  const decision = decideStart(l.s, request, l.clock.now());
  switch (decision.kind) {
    case 'refuse':
      throw ApplicationFailure.nonRetryable(decision.reason, 'conflict');
    case 'replay':
      return startResult(l.s);
    case 'schedule':
      l.s.start = decision.start;
      return startResult(l.s);
    case 'start':
      l.s.start = decision.start;
      return startWithoutCheckout(l.run);
  }
}

async function handle(l: Lifecycle, message: InboxMessage): Promise<void> {
  switch (message.kind) {
    case 'stripe':
      return handleStripeEvent(l.run, message.event);
    case 'seats':
    case 'addOns':
      await changeItems(l.run, message);
      return;
    case 'cancel':
      return cancel(l.run, message.request);
    case 'outcome':
      Object.assign(l.s, applyOutcome(l.s, message.outcome));
      upsertSearchAttributes([{ key: BillingState, value: l.s.status }]);
      return;
  }
}

async function drain(l: Lifecycle): Promise<void> {
  for (let message = l.s.inbox.shift(); message; message = l.s.inbox.shift()) {
    const current = message;
    try {
      await l.serial(() => handle(l, current));
    } catch (err) {
      // A request Stripe or Postgres refuses for good (its activity failed non-retryably) is dropped
      // with a loud log; the subscription itself must go on.
      log.error('subscription message could not be applied', { kind: current.kind, error: String(err) });
    }
  }
}

const due = (l: Lifecycle) => periodDue(l.s, l.clock.now());
const runIsLong = (l: Lifecycle) => l.messages >= MESSAGES_PER_RUN_MAX || workflowInfo().continueAsNewSuggested;
const wakeNow = (l: Lifecycle) => l.s.inbox.length > 0 || due(l) || runIsLong(l) || startDue(l.s, l.clock.now());
const waitShape = (l: Lifecycle) => `${l.s.status}:${l.s.periodEnd ?? ''}:${l.s.start?.startsAt ?? ''}`;
