/**
 * Test clocks (whole-tenant time simulation): create one, create teams on it (POST /admin/teams with
 * `testClockId`), read it, and advance it; the advance answers once the teams' processes have settled.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { advanceTestClock } from '../../orchestration/test-clocks.js';
import { validationError } from '../../shared/errors.js';
import { asOnlyAdvance, createTestClock, getTestClock, testClockTeams, testClockView } from '../../test-clocks/store.js';
import { parseTimestamp } from '../../usage/timestamp.js';
import { requireAdmin } from '../auth/admin.js';
import { problemResponses, router } from '../openapi.js';
import { idempotencyKey } from './checkout.js';

const Instant = z.string().max(64).openapi({ description: 'ISO 8601 with an offset, e.g. 2027-04-01T00:00:00Z' });

const TestClock = z
  .object({
    testClockId: z.string(),
    name: z.string().nullable(),
    frozenTime: z.string().openapi({ description: "The clock's time: its teams' now" }),
    status: z.enum(['ready', 'advancing']),
    teamIds: z.array(z.string()),
    createdAt: z.string(),
  })
  .openapi('TestClock');

const Advance = z
  .object({
    testClock: TestClock,
    steps: z.array(z.string()).openapi({ description: 'The instants the clock stopped at, in order: each one a workflow waited for, then `to`' }),
    workflows: z.number().int().openapi({ description: 'Workflows that followed the clock (subscriptions and their open period closes)' }),
    settled: z.boolean().openapi({ description: 'Whether every process settled at `to`; false when the wait ran out (then `busy` names them; advance again to go on)' }),
    busy: z.array(z.string()),
    elapsedMs: z.number().int(),
  })
  .openapi('TestClockAdvance');

const ClockIdParam = z.object({ testClockId: z.string().regex(/^clock_[A-Za-z0-9]{8,40}$/, 'must be a test clock id').openapi({ param: { name: 'testClockId', in: 'path' } }) });

function instant(path: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const ms = parseTimestamp(value);
  if (ms === undefined) throw validationError([{ path, message: 'must be an ISO 8601 timestamp with an offset' }]);
  return new Date(ms);
}

const security = [{ adminBearer: [] }];

export const adminTestClocks = router();
adminTestClocks.use('*', requireAdmin);

adminTestClocks
  .openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['test clocks'],
      summary: 'Create a test clock',
      description: 'Idempotent by the `Idempotency-Key` header. `frozenTime` defaults to now (whole second). Teams created on the clock live in its time.',
      security,
      request: {
        headers: z.object({ 'idempotency-key': z.string().optional() }),
        body: { content: { 'application/json': { schema: z.object({ name: z.string().min(1).max(200).optional(), frozenTime: Instant.optional() }).strict() } }, required: true },
      },
      responses: {
        201: { description: 'Created', content: { 'application/json': { schema: TestClock } } },
        200: { description: 'Replay', content: { 'application/json': { schema: TestClock } } },
        ...problemResponses,
      },
    }),
    async (c) => {
      const { sql } = c.get('deps');
      const body = c.req.valid('json');
      const key = idempotencyKey(c);
      const frozenTime = instant('frozenTime', body.frozenTime) ?? new Date(Math.floor(Date.now() / 1000) * 1000);
      const { row, created } = await createTestClock(sql, { name: body.name ?? null, frozenTime, idempotencyKey: key });
      if (!created) c.header('Idempotency-Replayed', 'true');
      return c.json(testClockView(row, await testClockTeams(sql, row.id)), created ? 201 : 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/{testClockId}',
      tags: ['test clocks'],
      summary: 'Read a test clock',
      security,
      request: { params: ClockIdParam },
      responses: { 200: { description: 'The clock', content: { 'application/json': { schema: TestClock } } }, ...problemResponses },
    }),
    async (c) => {
      const { sql } = c.get('deps');
      const { testClockId } = c.req.valid('param');
      return c.json(testClockView(await getTestClock(sql, testClockId), await testClockTeams(sql, testClockId)), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/{testClockId}/advance',
      tags: ['test clocks'],
      summary: "Move the clock forward; answers when its teams' processes have settled",
      description:
        "The clock stops at every instant one of its teams' workflows waits for (period ends, scheduled starts, dunning retries and grace), in order, up to `to`; at each stop every workflow is signalled and the step ends when each is idle again (waiting for a later instant or for Stripe). Usage of its teams is judged against the clock's time. Advancing to the same or an earlier time is a 400; a second advance of the same clock meanwhile is a 409.",
      security,
      request: { params: ClockIdParam, body: { content: { 'application/json': { schema: z.object({ to: Instant }).strict() } }, required: true } },
      responses: { 200: { description: 'Advanced', content: { 'application/json': { schema: Advance } } }, ...problemResponses },
    }),
    async (c) => {
      const { sql, temporal } = c.get('deps');
      const { testClockId } = c.req.valid('param');
      const to = instant('to', c.req.valid('json').to)!;
      const result = await asOnlyAdvance(sql, testClockId, () => advanceTestClock({ sql, temporal }, testClockId, to));
      const { clock, ...rest } = result;
      return c.json({ testClock: testClockView(clock, await testClockTeams(sql, testClockId)), ...rest }, 200);
    },
  );
