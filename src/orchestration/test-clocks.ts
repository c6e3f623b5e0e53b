/**
 * Advancing a test clock: the clock's time moves forward in steps, stopping at every instant one of
 * its teams' workflows waits for (a period end, a scheduled start, a dunning retry or grace), so the
 * processes fire in time order. At each step every workflow of the clock's teams gets the
 * `clockAdvanced` signal (and passes it on to nothing: the advance finds their followers, e.g. open
 * period closes, through the `clockState` query) and the step ends when each has settled: caught up
 * with the step's time and idle (waiting for a later instant or an outside event such as Stripe's).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Queryable } from '../shared/db.js';
import { AppError } from '../shared/errors.js';
import { LIMITS } from '../shared/limits.js';
import { assertForward, getTestClock, setTestClockTime, testClockTeams, type TestClockRow } from '../test-clocks/store.js';
import { subscriptionsOfTeams } from '../subscriptions/subscription-store.js';
import { clockAdvancedSignal, clockStateQuery, type ClockState } from '../workflows/clock-messages.js';
import { workflowIds } from '../workflows/ids.js';

const SETTLE_POLL_MS = 50;

export interface AdvanceResult {
  clock: TestClockRow;
  /** The instants the clock stopped at, in order (the last is `to`). */
  steps: string[];
  /** Workflows that followed the clock. */
  workflows: number;
  /** Whether every workflow settled at `to` within LIMITS.testClockSettleWaitMs. */
  settled: boolean;
  /** Workflows still busy when the wait ran out (empty when settled). */
  busy: string[];
  elapsedMs: number;
}

type Followed = Map<string, ClockState | 'closed'>;

/** The clock state of a running workflow; 'closed' when it ended (or never started). */
async function clockState(client: Client, workflowId: string): Promise<ClockState | 'closed'> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING') return 'closed';
    return await handle.query(clockStateQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'closed';
    throw err;
  }
}

async function signal(client: Client, workflowId: string, testClockId: string, toMs: number): Promise<void> {
  try {
    await client.workflow.getHandle(workflowId).signal(clockAdvancedSignal, { testClockId, toMs });
  } catch (err) {
    // A workflow that ended between the look-up and the signal has nothing left to follow.
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}

/**
 * Signals every workflow of the clock at `toMs` and polls until all have settled there, taking in the
 * followers they start meanwhile. Returns their states (for the next step's instant) or, on the
 * deadline, the ones still busy.
 */
async function settleAt(client: Client, roots: string[], testClockId: string, toMs: number, deadline: number): Promise<{ states: Followed; busy: string[] }> {
  const states: Followed = new Map();
  const signalled = new Set<string>();
  for (;;) {
    const ids = new Set([...roots, ...[...states.values()].flatMap((s) => (s === 'closed' ? [] : s.followers))]);
    const fresh = [...ids].filter((id) => !signalled.has(id));
    await Promise.all(fresh.map((id) => signal(client, id, testClockId, toMs)));
    for (const id of fresh) signalled.add(id);
    // Settled workflows stay settled until signalled again: only the others are asked again.
    const asking = [...ids].filter((id) => !isSettled(states.get(id), toMs));
    const answers = await Promise.all(asking.map((id) => clockState(client, id)));
    asking.forEach((id, i) => states.set(id, answers[i]!));
    const busy = [...ids].filter((id) => !isSettled(states.get(id), toMs));
    const followersKnown = [...states.values()].every((s) => s === 'closed' || s.followers.every((f) => ids.has(f)));
    if (busy.length === 0 && followersKnown) return { states, busy };
    if (Date.now() > deadline) return { states, busy };
    await new Promise((r) => setTimeout(r, SETTLE_POLL_MS));
  }
}

function isSettled(s: ClockState | 'closed' | undefined, toMs: number): boolean {
  return s === 'closed' || (s !== undefined && s.idle && (s.nowMs === null || s.nowMs >= toMs));
}

/** The next instant after `afterMs` any settled workflow waits for. */
function nextWake(states: Followed, afterMs: number): number | null {
  const wakes = [...states.values()].flatMap((s) => (s !== 'closed' && s.wakeAtMs !== null && s.wakeAtMs > afterMs ? [s.wakeAtMs] : []));
  return wakes.length > 0 ? Math.min(...wakes) : null;
}

/** Moves the clock forward to `to`, stopping at each instant its workflows wait for; returns when they have settled. */
export async function advanceTestClock(deps: { sql: Queryable; temporal: Client }, testClockId: string, to: Date): Promise<AdvanceResult> {
  const started = Date.now();
  const deadline = started + LIMITS.testClockSettleWaitMs;
  const { sql, temporal } = deps;
  const before = await getTestClock(sql, testClockId);
  assertForward(before, to);
  if (to.getTime() - before.frozen_time.getTime() > LIMITS.testClockAdvanceMaxMs) {
    throw new AppError('validation_failed', 'Too far in one advance', {
      fields: [{ path: 'to', message: `at most ${LIMITS.testClockAdvanceMaxMs / 86_400_000} days after the clock's time` }],
    });
  }
  const roots = (await subscriptionsOfTeams(sql, await testClockTeams(sql, testClockId))).map((id) => workflowIds.subscription(id));
  // Where the workflows stand before the clock moves: the first stop is the earliest instant one waits for.
  let t = before.frozen_time.getTime();
  let { states, busy } = await settleAt(temporal, roots, testClockId, t, deadline);
  const steps: string[] = [];
  while (t < to.getTime() && busy.length === 0) {
    t = Math.min(nextWake(states, t) ?? to.getTime(), to.getTime());
    steps.push(new Date(t).toISOString());
    // The clock's time first: usage and previews of its teams are judged at the step's time.
    await setTestClockTime(sql, testClockId, new Date(t), 'advancing');
    ({ states, busy } = await settleAt(temporal, roots, testClockId, t, deadline));
  }
  const settled = busy.length === 0 && t === to.getTime();
  const clock = await setTestClockTime(sql, testClockId, new Date(t), settled ? 'ready' : 'advancing');
  return { clock, steps, workflows: states.size, settled, busy, elapsedMs: Date.now() - started };
}
