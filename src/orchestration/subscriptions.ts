/** Starting, signalling and updating subscription workflows from the api (and the webhook route). */
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import type { Queryable } from '../shared/db.js';
import { AppId, SubscriptionId, TeamId } from '../shared/search-attributes.js';
import { getPlanVersion } from '../catalog/plan-versions.js';
import { recordedChangeProration, type ChangeProration } from '../billing/change-proration.js';
import { LIMITS } from '../shared/limits.js';
import { teamTestClock } from '../test-clocks/team-time.js';
import { getSubscription, subscriptionFacts, type SubscriptionRow } from '../subscriptions/subscription-store.js';
import { initialWorkflowState } from '../workflows/subscription-start.js';
import { workflowIds } from '../workflows/ids.js';
import { subscriptionLifecycle, type SubscriptionLifecycleInput } from '../workflows/subscription-lifecycle.js';
import {
  changePlanUpdate,
  createCheckoutUpdate,
  startSubscriptionUpdate,
  type CheckoutResult,
  type ChangePlanRequest,
  type ProrationResult,
  type StartSubscriptionRequest,
  type StartSubscriptionResult,
  type SubscriptionTiming,
} from '../workflows/subscription-messages.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Production timing: periods follow Stripe; dunning retries after 3, 5 and 7 days, then 7 days of grace. */
export const DEFAULT_SUBSCRIPTION_TIMING: SubscriptionTiming = {
  periodMs: null,
  dunningRetryDelaysMs: [3 * DAY_MS, 5 * DAY_MS, 7 * DAY_MS],
  dunningGraceMs: 7 * DAY_MS,
  stripeInvoiceWaitWarnMs: 2 * 60 * 60 * 1000,
};

/** Timing from the api's configuration (defaults: DEFAULT_SUBSCRIPTION_TIMING). */
export function subscriptionTimingFromConfig(config: {
  BILLING_PERIOD_SECONDS?: number | undefined;
  DUNNING_RETRY_DELAYS_SECONDS: number[];
  DUNNING_GRACE_SECONDS: number;
}): SubscriptionTiming {
  return {
    ...DEFAULT_SUBSCRIPTION_TIMING,
    periodMs: config.BILLING_PERIOD_SECONDS ? config.BILLING_PERIOD_SECONDS * 1000 : null,
    dunningRetryDelaysMs: config.DUNNING_RETRY_DELAYS_SECONDS.map((seconds) => seconds * 1000),
    dunningGraceMs: config.DUNNING_GRACE_SECONDS * 1000,
  };
}

export interface SubscriptionWorkflows {
  client: Client;
  taskQueue: string;
  timing: SubscriptionTiming;
}

async function startArgs(sql: Queryable, row: SubscriptionRow, timing: SubscriptionTiming): Promise<SubscriptionLifecycleInput> {
  const plan = await getPlanVersion(sql, row.plan_version_id);
  // A team on a test clock: the workflow lives in the clock's time from its first task.
  const testClock = await teamTestClock(sql, row.team_id);
  return { subscriptionId: row.id, teamId: row.team_id, timing, state: initialWorkflowState(subscriptionFacts(row), plan.currency), ...(testClock ? { testClock } : {}) };
}

/** `appId`: the app whose request starts the workflow (a Checkout), searchable as AppId; absent when Stripe or an operator starts it. */
function startOptions(w: SubscriptionWorkflows, row: SubscriptionRow, appId?: string) {
  return {
    taskQueue: w.taskQueue,
    workflowId: workflowIds.subscription(row.id),
    typedSearchAttributes: [
      { key: TeamId, value: row.team_id },
      { key: SubscriptionId, value: row.id },
      ...(appId ? [{ key: AppId, value: appId }] : []),
    ],
  };
}

/** Starts the subscription's workflow with an update, unless it runs already (then the update goes to it). */
async function startOperation(w: SubscriptionWorkflows, sql: Queryable, row: SubscriptionRow, appId?: string) {
  return new WithStartWorkflowOperation(subscriptionLifecycle, {
    ...startOptions(w, row, appId),
    args: [await startArgs(sql, row, w.timing)],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
}

/** The subscription's workflow, started if need be (tagged with the app asking), answers with its Checkout session. */
export async function checkoutThroughWorkflow(
  w: SubscriptionWorkflows,
  sql: Queryable,
  row: SubscriptionRow,
  request: { successUrl: string; cancelUrl: string; appId: string },
) {
  const { appId, ...checkout } = request;
  return w.client.workflow.executeUpdateWithStart(createCheckoutUpdate, {
    args: [{ requestId: `checkout:${row.id}`, ...checkout }],
    updateId: `checkout:${row.id}`,
    startWorkflowOperation: await startOperation(w, sql, row, appId),
  }) as Promise<CheckoutResult>;
}

/**
 * An operator's start without Checkout, through the same workflow (started if need be): answers once
 * the subscription is active, or, for a later startsAt, once the start is scheduled.
 */
export async function startThroughWorkflow(
  w: SubscriptionWorkflows,
  sql: Queryable,
  row: SubscriptionRow,
  request: Omit<StartSubscriptionRequest, 'requestId'>,
): Promise<StartSubscriptionResult> {
  return w.client.workflow.executeUpdateWithStart(startSubscriptionUpdate, {
    args: [{ requestId: `start:${row.id}`, ...request }],
    updateId: `start:${row.id}`,
    startWorkflowOperation: await startOperation(w, sql, row),
  }) as Promise<StartSubscriptionResult>;
}

/** Signals a subscription's workflow, starting it from its row if it is not running. */
export async function signalSubscription<Args extends unknown[]>(
  w: SubscriptionWorkflows,
  sql: Queryable,
  subscriptionId: string,
  signal: SignalDefinition<Args>,
  args: Args,
): Promise<string> {
  const row = await getSubscription(sql, subscriptionId);
  const handle = await w.client.workflow.signalWithStart(subscriptionLifecycle, {
    ...startOptions(w, row),
    args: [await startArgs(sql, row, w.timing)],
    // The definition's own type checks `args` at the call site; the SDK's option types lose it here.
    signal: signal as SignalDefinition<unknown[]>,
    signalArgs: args as unknown[],
  });
  return handle.workflowId;
}

/** A plan change through the subscription's running workflow; answers with the proration it causes. */
export async function changePlanThroughWorkflow(w: Pick<SubscriptionWorkflows, 'client'>, subscriptionId: string, request: ChangePlanRequest): Promise<ProrationResult> {
  return w.client.workflow.getHandle(workflowIds.subscription(subscriptionId)).executeUpdate(changePlanUpdate, {
    args: [request],
    updateId: `plan:${request.requestId}`,
  });
}

const CHANGE_POLL_MS = 100;

/**
 * The proration of a change the subscription's workflow applies (seats, add-ons, plan), once it has
 * recorded it; null when it has not within LIMITS.subscriptionChangeWaitMs (still accepted: the
 * workflow applies it, and a replay of the request answers with the proration then).
 */
export async function appliedChangeProration(sql: Queryable, subscriptionId: string, requestId: string, waitMs: number = LIMITS.subscriptionChangeWaitMs): Promise<ChangeProration | null> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const proration = await recordedChangeProration(sql, subscriptionId, requestId);
    if (proration || Date.now() >= deadline) return proration;
    await new Promise((r) => setTimeout(r, CHANGE_POLL_MS));
  }
}
