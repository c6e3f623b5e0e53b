/** `POST /v1/teams/:teamId/checkout`: a Stripe Checkout URL for subscribing the team to a plan. */
import { createRoute, z } from '@hono/zod-openapi';
import { getLatestPlanVersion } from '../../catalog/plan-versions.js';
import { checkoutUrlSchema as CheckoutUrl, getApp } from '../../platform/apps.js';
import { getTeam } from '../../platform/teams.js';
import { AppError, validationError } from '../../shared/errors.js';
import { LIMITS } from '../../shared/limits.js';
import { createSubscription } from '../../subscriptions/subscription-store.js';
import { checkoutThroughWorkflow } from '../../orchestration/subscriptions.js';
import { requireApp } from '../auth/app-token.js';
import { problemResponses, router, TeamIdParam } from '../openapi.js';
import type { Context } from 'hono';
import type { ApiEnv } from '../deps.js';

export const CheckoutInput = z
  .object({
    planCode: z.string().regex(/^[a-z][a-z0-9_-]{1,47}$/, 'must be a plan code'),
    seats: z.number().int().min(1).max(100_000).default(1),
    addOns: z.array(z.string().min(1).max(64)).max(50).default([]),
    successUrl: CheckoutUrl.optional().openapi({ description: "Default: the app's checkoutSuccessUrl (set at app registration)" }),
    cancelUrl: CheckoutUrl.optional().openapi({ description: "Default: the app's checkoutCancelUrl (set at app registration)" }),
  })
  .strict();

export const CheckoutResponse = z.object({
  subscriptionId: z.string(),
  planVersionId: z.string(),
  status: z.string(),
  checkoutSessionId: z.string(),
  checkoutUrl: z.string(),
});

/** The Idempotency-Key header every write that starts something must carry. */
export function idempotencyKey(c: Context<ApiEnv>): string {
  const key = c.req.header('idempotency-key');
  if (!key || key.length > LIMITS.idempotencyKeyLengthMax || !/^[\x21-\x7e]+$/.test(key)) {
    throw validationError([{ path: 'header.idempotency-key', message: `required: 1–${LIMITS.idempotencyKeyLengthMax} printable ASCII characters` }]);
  }
  return key;
}

export const checkout = router().openapi(
  createRoute({
    method: 'post',
    path: '/{teamId}/checkout',
    tags: ['subscriptions'],
    summary: 'Start a Stripe Checkout for a plan',
    description:
      'Idempotent by the `Idempotency-Key` header: a replay returns the same session. Completion arrives as a Stripe webhook and activates the subscription. `successUrl` and `cancelUrl` default to those of the calling app (`checkoutSuccessUrl`, `checkoutCancelUrl` at registration); a request without them for an app without defaults is a 400 naming each.',
    security: [{ appJwt: [] }],
    middleware: [requireApp('checkout:write', { team: 'path' })] as const,
    request: {
      params: TeamIdParam,
      headers: z.object({ 'idempotency-key': z.string().optional() }),
      body: { content: { 'application/json': { schema: CheckoutInput } }, required: true },
    },
    responses: {
      201: { description: 'Checkout created', content: { 'application/json': { schema: CheckoutResponse } } },
      200: { description: 'Replay', content: { 'application/json': { schema: CheckoutResponse } } },
      ...problemResponses,
    },
  }),
  async (c) => {
    const { sql, temporal, taskQueue, subscriptionTiming } = c.get('deps');
    const { teamId } = c.req.valid('param');
    const body = c.req.valid('json');
    const key = idempotencyKey(c);
    const plan = await getLatestPlanVersion(sql, body.planCode);
    const team = await getTeam(sql, teamId);
    const app = body.successUrl && body.cancelUrl ? null : await getApp(sql, c.get('principal').appId);
    const successUrl = body.successUrl ?? app?.checkoutSuccessUrl;
    const cancelUrl = body.cancelUrl ?? app?.checkoutCancelUrl;
    const noDefault = (field: string, setting: string) => ({ path: field, message: `required: app ${app!.appId} has no ${setting} (PATCH /admin/apps/${app!.appId})` });
    const fields = [
      ...(successUrl ? [] : [noDefault('successUrl', 'checkoutSuccessUrl')]),
      ...(cancelUrl ? [] : [noDefault('cancelUrl', 'checkoutCancelUrl')]),
      ...body.addOns.flatMap((code, i) => (Object.hasOwn(plan.addOns, code) ? [] : [{ path: `addOns.${i}`, message: `plan ${plan.planCode} has no add-on ${code}` }])),
      ...(plan.currency === team.currency ? [] : [{ path: 'planCode', message: `plan is in ${plan.currency}, the team pays in ${team.currency}` }]),
    ];
    if (fields.length > 0) throw validationError(fields);
    const { row, created } = await createSubscription(sql, { teamId, planVersionId: plan.id, seats: body.seats, addOns: body.addOns, idempotencyKey: key });
    if (row.status === 'canceled') throw new AppError('conflict', `Subscription ${row.id} of this request is canceled; use a new Idempotency-Key`);
    const session =
      row.stripe_checkout_session_id && row.stripe_checkout_url
        ? { checkoutSessionId: row.stripe_checkout_session_id, checkoutUrl: row.stripe_checkout_url }
        : await checkoutThroughWorkflow({ client: temporal, taskQueue, timing: subscriptionTiming }, sql, row, {
            successUrl: successUrl!,
            cancelUrl: cancelUrl!,
            appId: c.get('principal').appId,
          });
    if (!created) c.header('Idempotency-Replayed', 'true');
    return c.json({ subscriptionId: row.id, planVersionId: row.plan_version_id, status: row.status, ...session }, created ? 201 : 200);
  },
);
