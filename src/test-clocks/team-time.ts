/**
 * A team's "now": the wall clock, or, for a team created on a test clock, the clock's time. Every
 * judgement of time about a team outside its workflows (a start instant, the open period of a
 * preview, usage timestamps) reads it here; workflows carry it (src/workflows/workflow-clock.ts).
 */
import type { Queryable } from '../shared/db.js';
import { clocksOfTeams } from './store.js';

export async function teamNow(sql: Queryable, teamId: string): Promise<Date> {
  return (await clocksOfTeams(sql, [teamId])).get(teamId)?.frozenTime ?? new Date();
}

/** Each team's now, for a batch that may mix clocked and real teams. */
export async function teamNows(sql: Queryable, teamIds: readonly string[], wallNow: Date): Promise<(teamId: string) => Date> {
  const clocks = await clocksOfTeams(sql, [...new Set(teamIds)]);
  return (teamId) => clocks.get(teamId)?.frozenTime ?? wallNow;
}

/** The test clock a team's workflows follow, as their input carries it; null for real time. */
export async function teamTestClock(sql: Queryable, teamId: string): Promise<{ testClockId: string; nowMs: number } | null> {
  const clock = (await clocksOfTeams(sql, [teamId])).get(teamId);
  return clock ? { testClockId: clock.testClockId, nowMs: clock.frozenTime.getTime() } : null;
}
