/**
 * Where a workflow's "now" comes from, and how it waits for an instant. A real team reads Temporal's
 * deterministic workflow time and waits on timers; a team on a test clock reads the clock's time (as
 * its last `clockAdvanced` signal said) and waits on `condition()` until an advance reaches the
 * instant. Everything else about the workflow is the same code: production and simulation differ
 * only in where time comes from.
 */
import { condition } from '@temporalio/workflow';
import { nowMs } from './clock.js';

/** A test clock as a workflow carries it across runs: its id and the time it last advanced to. */
export interface TestClockTime {
  testClockId: string;
  nowMs: number;
}

export interface WorkflowClock {
  /** The test clock, or null for wall (workflow) time. */
  readonly testClock: TestClockTime | null;
  now(): number;
  /** Moves a test clock forward (never back); no-op for wall time. */
  advanceTo(toMs: number): void;
  /** Waits until `done()` holds or `instantMs` has come; true when `done()` held. */
  until(done: () => boolean, instantMs: number): Promise<boolean>;
  /** Waits until `done()` holds or `durationMs` has passed from now; true when `done()` held. */
  within(done: () => boolean, durationMs: number): Promise<boolean>;
}

export function workflowClock(testClock: TestClockTime | null | undefined): WorkflowClock {
  if (!testClock) {
    return {
      testClock: null,
      now: nowMs,
      advanceTo: () => undefined,
      // The same commands as before clocks existed (a timer of at least 1 ms), so recorded histories replay.
      until: (done, instantMs) => condition(done, Math.max(1, instantMs - nowMs())),
      within: (done, durationMs) => condition(done, durationMs),
    };
  }
  const clock: TestClockTime = { ...testClock };
  const until = async (done: () => boolean, instantMs: number) => {
    await condition(() => done() || clock.nowMs >= instantMs);
    return done();
  };
  return {
    testClock: clock,
    now: () => clock.nowMs,
    advanceTo: (toMs) => {
      clock.nowMs = Math.max(clock.nowMs, toMs);
    },
    until,
    within: (done, durationMs) => until(done, clock.nowMs + durationMs),
  };
}
