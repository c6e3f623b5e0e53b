/**
 * A team's subscription: read it, and change seats, add-ons, plan or cancel. Changes are idempotent
 * by the Idempotency-Key header; seats, add-ons and cancellation are applied by the subscription's
 * workflow (202), a plan change answers with its proration (200).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { getLatestPlanVersion, getPlanVersion } from '../../catalog/plan-versions.js';
import type { SignalDefinition } from '@temporalio/common';
import { idempotent } from '../../platform/idempotency.js';
import { AppError, notFound, validationError } from '../../shared/errors.js';
import { LIMITS } from '../../shared/limits.js';
import { currentSubscription, subscriptionFacts, type SubscriptionRow } from '../../subscriptions/subscription-store.js';
import { appliedChangeProration, changePlanThroughWorkflow, signalSubscription, type SubscriptionWorkflows } from '../../orchestration/subscriptions.js';
import { INVOICE_ROUNDING_RULE } from '../../billing/period-lines.js';
import { ComputedLine } from './invoices.js';
import { cancelSignal, changeAddOnsSignal, changeSeatsSignal, type ProrationResult } from '../../workflows/subscription-messages.js';
import { requireApp } from '../auth/app-token.js';
import { problemResponses, router, TeamIdParam } from '../openapi.js';
import type { Context } from 'hono';
import type { ApiEnv } from '../deps.js';
import { idempotencyKey } from './checkout.js';
import { workflowIds } from '../../workflows/ids.js';

export const SubscriptionSchema = z
  .object({
    subscriptionId: z.string(),
    teamId: z.string(),
    status: z.enum(['incomplete', 'active', 'past_due', 'restricted', 'canceled']),
    planVersionId: z.string(),
    seats: z.number().int(),
    addOns: z.array(z.string()),
    currentPeriodStart: z.string().nullable(),
    currentPeriodEnd: z.string().nullable(),
    cancelAtPeriodEnd: z.boolean(),
    stripeSubscriptionId: z.string().nullable(),
    workflowId: z.string(),
    createdAt: z.string(),
  })
  .openapi('Subscription');

export const Proration = z
  .object({
    effectiveAt: z.string().openapi({ description: 'The second the change took effect (Stripe prorates at whole seconds)' }),
    periodStart: z.string().nullable().openapi({ description: 'The period the change prorates; null on a replay after that period closed' }),
    periodEnd: z.string().nullable(),
    fromPlanVersionId: z.string(),
    toPlanVersionId: z.string(),
    creditAmount: z.string().openapi({ description: 'Σ credits for unused time, cents, major units (positive)' }),
    chargeAmount: z.string().openapi({ description: 'Σ charges for the remaining time, cents, major units' }),
    netAmount: z.string().openapi({ description: 'chargeAmount − creditAmount: what the change adds to the period’s invoice' }),
    lines: z.array(ComputedLine).openapi({ description: 'The proration lines the close of the period invoices for this change, line for line (empty on a replay after the period closed)' }),
  })
  .openapi('ChangeProration', { description: `The proration a change causes, computed by the code that closes the period. ${INVOICE_ROUNDING_RULE}` });

export const Accepted = z.object({
  subscriptionId: z.string(),
  requestId: z.string(),
  status: z.enum(['accepted', 'applied', 'unchanged']).openapi({
    description: `applied: the workflow applied it (proration given); accepted: it will (not applied within ${LIMITS.subscriptionChangeWaitMs / 1000} s; a replay of the request answers with the proration); unchanged: the subscription already is so`,
  }),
  proration: Proration.nullable(),
});

function view(row: SubscriptionRow) {
  return { subscriptionId: row.id, teamId: row.team_id, ...subscriptionFacts(row), workflowId: workflowIds.subscription(row.id), createdAt: row.created_at.toISOString() };
}

async function liveSubscription(c: Context<ApiEnv>, teamId: string): Promise<SubscriptionRow> {
  const row = await currentSubscription(c.get('deps').sql, teamId);
  if (!row || !['active', 'past_due', 'restricted'].includes(row.status)) throw new AppError('conflict', `Team ${teamId} has no live subscription`);
  return row;
}

function workflows(c: Context<ApiEnv>): SubscriptionWorkflows {
  const { temporal, taskQueue, subscriptionTiming } = c.get('deps');
  return { client: temporal, taskQueue, timing: subscriptionTiming };
}

/**
 * A change the subscription's workflow applies: claimed under the Idempotency-Key with its payload,
 * then signalled with the key as request id (the workflow dedupes on it), answered 202.
 */
async function acceptChange<Args extends [{ requestId: string }]>(
  c: Context<ApiEnv>,
  teamId: string,
  kind: string,
  payload: Record<string, unknown>,
  signal: SignalDefinition<Args>,
  request: (requestId: string) => Args[0],
  unchanged: (row: SubscriptionRow) => boolean,
) {
  const key = idempotencyKey(c);
  const row = await liveSubscription(c, teamId);
  const { sql } = c.get('deps');
  const { response } = await idempotent(sql, `${kind}:${row.id}`, key, payload, async () => {
    const same = unchanged(row);
    if (!same) await signalSubscription(workflows(c), sql, row.id, signal, [request(key)] as Args);
    return { subscriptionId: row.id, requestId: key, status: same ? ('unchanged' as const) : ('accepted' as const) };
  });
  // Answered with the proration the change causes once applied (also on a replay), else as accepted.
  const proration = response.status === 'unchanged' ? null : await appliedChangeProration(sql, row.id, key);
  return c.json({ ...response, status: proration ? ('applied' as const) : response.status, proration }, 202);
}

const write = { security: [{ appJwt: [] }], middleware: [requireApp('subscription:write', { team: 'path' })] };
const keyHeader = z.object({ 'idempotency-key': z.string().optional() });
const accepted = { 202: { description: 'Accepted: the subscription workflow applies it', content: { 'application/json': { schema: Accepted } } }, ...problemResponses };

export const subscription = router()
  .openapi(
    createRoute({
      method: 'get',
      path: '/{teamId}/subscription',
      tags: ['subscriptions'],
      summary: "The team's subscription (live, else the latest)",
      security: [{ appJwt: [] }],
      middleware: [requireApp('billing:read', { team: 'path' })] as const,
      request: { params: TeamIdParam },
      responses: { 200: { description: 'The subscription', content: { 'application/json': { schema: SubscriptionSchema } } }, ...problemResponses },
    }),
    async (c) => {
      const { teamId } = c.req.valid('param');
      const row = await currentSubscription(c.get('deps').sql, teamId);
      if (!row) throw notFound(`A subscription of team ${teamId}`);
      return c.json(view(row), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/{teamId}/subscription/seats',
      tags: ['subscriptions'],
      summary: 'Change the number of seats (prorated)',
      ...write,
      request: { params: TeamIdParam, headers: keyHeader, body: { content: { 'application/json': { schema: z.object({ seats: z.number().int().min(1).max(100_000) }).strict() } }, required: true } },
      responses: accepted,
    }),
    async (c) => {
      const { seats } = c.req.valid('json');
      return acceptChange(c, c.req.valid('param').teamId, 'seats', { seats }, changeSeatsSignal, (requestId) => ({ requestId, seats }), (row) => row.seats === seats);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/{teamId}/subscription/add-ons',
      tags: ['subscriptions'],
      summary: 'Set the add-ons (prorated)',
      ...write,
      request: { params: TeamIdParam, headers: keyHeader, body: { content: { 'application/json': { schema: z.object({ addOns: z.array(z.string().min(1).max(64)).max(50) }).strict() } }, required: true } },
      responses: accepted,
    }),
    async (c) => {
      const { teamId } = c.req.valid('param');
      const { addOns } = c.req.valid('json');
      const row = await liveSubscription(c, teamId);
      const plan = await getPlanVersion(c.get('deps').sql, row.plan_version_id);
      const unknown = addOns.flatMap((code, i) => (Object.hasOwn(plan.addOns, code) ? [] : [{ path: `addOns.${i}`, message: `the plan has no add-on ${code}` }]));
      if (unknown.length > 0) throw validationError(unknown);
      const wanted = [...new Set(addOns)].sort();
      const same = (r: SubscriptionRow) => [...r.add_ons].sort().join() === wanted.join();
      return acceptChange(c, teamId, 'add-ons', { addOns: [...addOns].sort() }, changeAddOnsSignal, (requestId) => ({ requestId, addOns }), same);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/{teamId}/subscription/cancel',
      tags: ['subscriptions'],
      summary: 'Cancel at period end (default) or now; usage is invoiced either way',
      ...write,
      request: { params: TeamIdParam, headers: keyHeader, body: { content: { 'application/json': { schema: z.object({ atPeriodEnd: z.boolean().default(true) }).strict() } }, required: true } },
      responses: accepted,
    }),
    async (c) => {
      const { atPeriodEnd } = c.req.valid('json');
      const key = idempotencyKey(c);
      const row = await liveSubscription(c, c.req.valid('param').teamId);
      const { sql } = c.get('deps');
      const { response } = await idempotent(sql, `cancel:${row.id}`, key, { atPeriodEnd }, async () => {
        await signalSubscription(workflows(c), sql, row.id, cancelSignal, [{ requestId: key, atPeriodEnd }]);
        return { subscriptionId: row.id, requestId: key, status: 'accepted' as const, proration: null };
      });
      return c.json(response, 202);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/{teamId}/subscription/plan',
      tags: ['subscriptions'],
      summary: 'Change plan now; answers with the proration Stripe will invoice',
      ...write,
      request: { params: TeamIdParam, headers: keyHeader, body: { content: { 'application/json': { schema: z.object({ planCode: z.string().min(2).max(48) }).strict() } }, required: true } },
      responses: {
        200: {
          description: 'Changed',
          content: {
            'application/json': {
              schema: Proration.extend({ requestId: z.string() }),
            },
          },
        },
        ...problemResponses,
      },
    }),
    async (c) => {
      const { teamId } = c.req.valid('param');
      const { planCode } = c.req.valid('json');
      const key = idempotencyKey(c);
      const { sql } = c.get('deps');
      const row = await liveSubscription(c, teamId);
      const plan = await getLatestPlanVersion(sql, planCode);
      if (plan.id === row.plan_version_id) throw new AppError('conflict', `The subscription is already on ${plan.id}`);
      const { response } = await idempotent<ProrationResult>(sql, `plan:${row.id}`, key, { planVersionId: plan.id }, () =>
        changePlanThroughWorkflow(workflows(c), row.id, { requestId: key, planVersionId: plan.id }),
      );
      // The update answered the sums; the recorded change gives the lines (the same computation).
      const proration = await appliedChangeProration(sql, row.id, key, 0);
      // A replay after its period closed: the sums as first answered; the lines are on that period's invoice.
      return c.json({ periodStart: null, periodEnd: null, lines: [], ...proration, ...response }, 200);
    },
  );
