/**
 * Messages between a test clock's advance (src/orchestration/test-clocks.ts) and the workflows of the
 * clock's teams: the clock moved (a signal, idempotent: a clock only moves forward), and how far each
 * workflow has got (a query: its time, whether it has settled, the next instant it waits for, and the
 * workflows it started that follow the clock too).
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';

export interface ClockAdvanced {
  testClockId: string;
  /** The clock's new time, epoch milliseconds. */
  toMs: number;
}

export interface ClockState {
  testClockId: string | null;
  nowMs: number | null;
  /** Nothing left to do at this time: waiting for a later instant or for an outside event (Stripe). */
  idle: boolean;
  /** The earliest instant it waits for, if any: the advance stops there first, so processes fire in order. */
  wakeAtMs: number | null;
  /** Child workflows that follow the same clock (a subscription's open period closes). */
  followers: string[];
}

export const clockAdvancedSignal = defineSignal<[ClockAdvanced]>('clockAdvanced');
export const clockStateQuery = defineQuery<ClockState>('clockState');
