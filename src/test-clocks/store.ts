/**
 * Test clocks in Postgres (owner of `test_clocks`): created once per Idempotency-Key, moved forward
 * only by an advance, read by everything that judges a clocked team's time (team-time.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Queryable, Sql } from '../shared/db.js';
import { inTransaction } from '../shared/db.js';
import { requestHash } from '../shared/crypto.js';
import { AppError, idempotencyConflict, notFound } from '../shared/errors.js';

export interface TestClockRow {
  id: string;
  name: string | null;
  frozen_time: Date;
  status: 'ready' | 'advancing';
  created_at: Date;
  updated_at: Date;
}

export interface TestClockView {
  testClockId: string;
  name: string | null;
  frozenTime: string;
  status: 'ready' | 'advancing';
  teamIds: string[];
  createdAt: string;
}

export function testClockView(row: TestClockRow, teamIds: string[]): TestClockView {
  return { testClockId: row.id, name: row.name, frozenTime: row.frozen_time.toISOString(), status: row.status, teamIds, createdAt: row.created_at.toISOString() };
}

export async function createTestClock(sql: Sql, input: { name: string | null; frozenTime: Date; idempotencyKey: string }): Promise<{ row: TestClockRow; created: boolean }> {
  const hash = requestHash({ name: input.name, frozenTime: input.frozenTime.toISOString() });
  return inTransaction(sql, async (tx) => {
    const id = `clock_${randomBytes(12).toString('base64url').replace(/[^A-Za-z0-9]/g, 'x')}`;
    const [inserted] = await tx<TestClockRow[]>`
      insert into test_clocks (id, name, frozen_time, idempotency_key, request_hash)
      values (${id}, ${input.name}, ${input.frozenTime}, ${input.idempotencyKey}, ${hash})
      on conflict (idempotency_key) do nothing
      returning id, name, frozen_time, status, created_at, updated_at`;
    if (inserted) return { row: inserted, created: true };
    const [existing] = await tx<(TestClockRow & { request_hash: Buffer })[]>`select * from test_clocks where idempotency_key = ${input.idempotencyKey}`;
    if (!existing!.request_hash.equals(hash)) throw idempotencyConflict(input.idempotencyKey);
    return { row: existing!, created: false };
  });
}

export async function getTestClock(sql: Queryable, id: string): Promise<TestClockRow> {
  const [row] = await sql<TestClockRow[]>`select id, name, frozen_time, status, created_at, updated_at from test_clocks where id = ${id}`;
  if (!row) throw notFound(`Test clock ${id}`);
  return row;
}

export async function testClockTeams(sql: Queryable, id: string): Promise<string[]> {
  return (await sql<{ id: string }[]>`select id from teams where test_clock_id = ${id} order by id`).map((r) => r.id);
}

/** Moves the clock forward to `to` (never back); `status` says whether an advance is still under way. */
export async function setTestClockTime(sql: Queryable, id: string, to: Date, status: TestClockRow['status']): Promise<TestClockRow> {
  const [row] = await sql<TestClockRow[]>`
    update test_clocks set frozen_time = greatest(frozen_time, ${to}), status = ${status}, updated_at = now() where id = ${id}
    returning id, name, frozen_time, status, created_at, updated_at`;
  if (!row) throw notFound(`Test clock ${id}`);
  return row;
}

/** The clocks of these teams (teams not on a clock are absent). */
export async function clocksOfTeams(sql: Queryable, teamIds: readonly string[]): Promise<Map<string, { testClockId: string; frozenTime: Date }>> {
  if (teamIds.length === 0) return new Map();
  const rows = await sql<{ team_id: string; id: string; frozen_time: Date }[]>`
    select t.id as team_id, c.id, c.frozen_time from teams t join test_clocks c on c.id = t.test_clock_id where t.id = any(${[...teamIds]})`;
  return new Map(rows.map((r) => [r.team_id, { testClockId: r.id, frozenTime: r.frozen_time }]));
}

export function assertForward(row: TestClockRow, to: Date): void {
  if (to.getTime() <= row.frozen_time.getTime()) {
    throw new AppError('validation_failed', `A test clock only moves forward`, {
      fields: [{ path: 'to', message: `must be after the clock's time ${row.frozen_time.toISOString()}` }],
    });
  }
}

/** Runs `fn` as the clock's only advance: a second advance of the same clock meanwhile is a 409. */
export async function asOnlyAdvance<T>(sql: Sql, id: string, fn: () => Promise<T>): Promise<T> {
  const conn = await sql.reserve();
  const lock = `test-clock:${id}`;
  try {
    const [row] = await conn<{ locked: boolean }[]>`select pg_try_advisory_lock(hashtextextended(${lock}, 0)) as locked`;
    if (!row!.locked) throw new AppError('conflict', `Test clock ${id} is being advanced by another request`);
    try {
      return await fn();
    } finally {
      await conn`select pg_advisory_unlock(hashtextextended(${lock}, 0))`;
    }
  } finally {
    conn.release();
  }
}
