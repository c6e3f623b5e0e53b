/**
 * `POST /admin/teams/{teamId}/subscriptions`: an operator puts a team on a plan without Stripe
 * Checkout, collected by invoice (net terms) or charged to the payment method the customer saved.
 * The same subscriptionLifecycle workflow runs it as a Checkout subscription: only its start differs.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { getLatestPlanVersion } from '../../catalog/plan-versions.js';
import { getTeam } from '../../platform/teams.js';
import { AppError, validationError, type FieldError } from '../../shared/errors.js';
import { LIMITS } from '../../shared/limits.js';
import { parseTimestamp } from '../../usage/timestamp.js';
import { createSubscription } from '../../subscriptions/subscription-store.js';
import { startThroughWorkflow } from '../../orchestration/subscriptions.js';
import { teamNow } from '../../test-clocks/team-time.js';
import { workflowIds } from '../../workflows/ids.js';
import { requireAdmin } from '../auth/admin.js';
import { problemResponses, router, TeamIdParam } from '../openapi.js';
import { idempotencyKey } from './checkout.js';

const StartInput = z
  .object({
    planCode: z.string().regex(/^[a-z][a-z0-9_-]{1,47}$/, 'must be a plan code'),
    seats: z.number().int().min(1).max(100_000).default(1),
    addOns: z.array(z.string().min(1).max(64)).max(50).default([]),
    collection: z.enum(['send_invoice', 'charge_automatically']).openapi({
      description: "send_invoice: Stripe emails each invoice, due after `daysUntilDue` days (net terms). charge_automatically: charged to the customer's saved default payment method; refused (402) when that payment fails.",
    }),
    daysUntilDue: z
      .number()
      .int()
      .min(0)
      .max(LIMITS.subscriptionDaysUntilDueMax)
      .optional()
      .openapi({ description: `Net terms of send_invoice (default ${LIMITS.subscriptionDaysUntilDueDefault}); not allowed with charge_automatically` }),
    startsAt: z
      .string()
      .max(64)
      .optional()
      .openapi({ description: "When the first period starts (ISO 8601 with offset). Default: now (the team's test clock time, if it has one). Later instants are scheduled; earlier ones are refused." }),
  })
  .strict()
  .openapi('SubscriptionStartInput');

const StartResponse = z
  .object({
    subscriptionId: z.string(),
    teamId: z.string(),
    planVersionId: z.string(),
    status: z.enum(['active', 'scheduled']),
    collection: z.enum(['send_invoice', 'charge_automatically']),
    daysUntilDue: z.number().int().nullable(),
    startsAt: z.string(),
    stripeSubscriptionId: z.string().nullable(),
    currentPeriodStart: z.string().nullable(),
    currentPeriodEnd: z.string().nullable(),
    workflowId: z.string(),
  })
  .openapi('SubscriptionStart');

/** The operator's startsAt judged against the team's time: a valid instant, not in the past, not too far ahead. */
function startsAtProblems(startsAt: string | undefined, nowMs: number): FieldError[] {
  if (startsAt === undefined) return [];
  const at = parseTimestamp(startsAt);
  if (at === undefined) return [{ path: 'startsAt', message: 'must be an ISO 8601 timestamp with an offset' }];
  if (at < nowMs - LIMITS.subscriptionStartSkewMs) return [{ path: 'startsAt', message: `lies in the past (the team's time is ${new Date(nowMs).toISOString()}); periods are never backdated` }];
  if (at > nowMs + LIMITS.subscriptionStartAheadMaxMs) return [{ path: 'startsAt', message: `lies more than ${LIMITS.subscriptionStartAheadMaxMs / 86_400_000} days ahead` }];
  return [];
}

export const adminSubscriptions = router();
adminSubscriptions.use('*', requireAdmin);

adminSubscriptions.openapi(
  createRoute({
    method: 'post',
    path: '/{teamId}/subscriptions',
    tags: ['admin'],
    summary: 'Put a team on a plan without Checkout (invoice with net terms, or the saved payment method)',
    description:
      'Idempotent by the `Idempotency-Key` header: a replay answers as the first request (200, `Idempotency-Replayed: true`); the same key with another body is a 409. Runs the same `subscriptionLifecycle` workflow as a Checkout (`subscription:<id>`), which creates the Stripe subscription (`collection_method` send_invoice with `days_until_due`, or charge_automatically with `payment_behavior=error_if_incomplete`) and activates it. Answers once active, or, for a later `startsAt`, once scheduled (`status: scheduled`; the workflow starts it then).',
    security: [{ adminBearer: [] }],
    request: {
      params: TeamIdParam,
      headers: z.object({ 'idempotency-key': z.string().optional() }),
      body: { content: { 'application/json': { schema: StartInput } }, required: true },
    },
    responses: {
      201: { description: 'Started (or scheduled)', content: { 'application/json': { schema: StartResponse } } },
      200: { description: 'Replay', content: { 'application/json': { schema: StartResponse } } },
      ...problemResponses,
    },
  }),
  async (c) => {
    const { sql, temporal, taskQueue, subscriptionTiming } = c.get('deps');
    const { teamId } = c.req.valid('param');
    const body = c.req.valid('json');
    const key = idempotencyKey(c);
    const team = await getTeam(sql, teamId);
    const plan = await getLatestPlanVersion(sql, body.planCode);
    const now = await teamNow(sql, teamId);
    const fields: FieldError[] = [
      ...(body.collection === 'charge_automatically' && body.daysUntilDue !== undefined ? [{ path: 'daysUntilDue', message: 'only with collection send_invoice' }] : []),
      ...startsAtProblems(body.startsAt, now.getTime()),
      ...body.addOns.flatMap((code, i) => (Object.hasOwn(plan.addOns, code) ? [] : [{ path: `addOns.${i}`, message: `plan ${plan.planCode} has no add-on ${code}` }])),
      ...(plan.currency === team.currency ? [] : [{ path: 'planCode', message: `plan is in ${plan.currency}, the team pays in ${team.currency}` }]),
    ];
    if (fields.length > 0) throw validationError(fields);
    const daysUntilDue = body.collection === 'send_invoice' ? (body.daysUntilDue ?? LIMITS.subscriptionDaysUntilDueDefault) : null;
    const startsAt = body.startsAt === undefined ? null : new Date(parseTimestamp(body.startsAt)!).toISOString();
    const { row, created } = await createSubscription(sql, {
      teamId,
      planVersionId: plan.id,
      seats: body.seats,
      addOns: body.addOns,
      idempotencyKey: key,
      operator: { collection: body.collection, daysUntilDue, startsAt },
    });
    if (row.origin !== 'operator') throw new AppError('idempotency_conflict', `Idempotency-Key ${key} was used by a Checkout of team ${teamId}`);
    const started = await startThroughWorkflow({ client: temporal, taskQueue, timing: subscriptionTiming }, sql, row, {
      collection: row.collection_method,
      daysUntilDue: row.days_until_due,
      startsAt: row.starts_at?.toISOString() ?? null,
    });
    if (!created) c.header('Idempotency-Replayed', 'true');
    return c.json(
      {
        subscriptionId: row.id,
        teamId,
        planVersionId: row.plan_version_id,
        status: started.status,
        collection: row.collection_method,
        daysUntilDue: row.days_until_due,
        startsAt: started.startsAt,
        stripeSubscriptionId: started.stripeSubscriptionId,
        currentPeriodStart: started.periodStart,
        currentPeriodEnd: started.periodEnd,
        workflowId: workflowIds.subscription(row.id),
      },
      created ? 201 : 200,
    );
  },
);
