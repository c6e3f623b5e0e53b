/** `GET /v1/teams/:teamId/entitlements`: features, limits and their usage, for gating every request of an app. */
import { createRoute, z } from '@hono/zod-openapi';
import { teamEntitlements, type TeamEntitlements } from '../../entitlements/team-entitlements.js';
import { requireApp } from '../auth/app-token.js';
import { problemResponses, router, TeamIdParam } from '../openapi.js';

/** Answers are reused this long per team: a check is then an in-memory lookup; the SDK caches too. */
export const ENTITLEMENTS_CACHE_TTL_MS = 2_000;
const cache = new Map<string, { value: TeamEntitlements; expiresAt: number }>();

export const Limit = z.object({
  meter: z.string().nullable(),
  value: z.string().nullable(),
  window: z.string(),
  enforcement: z.enum(['hard', 'soft']),
  used: z.string().nullable(),
  remaining: z.string().nullable(),
  thresholdsReached: z.array(z.string()),
  exceeded: z.boolean(),
});

export const Entitlements = z
  .object({
    teamId: z.string(),
    planVersionId: z.string().nullable(),
    subscriptionStatus: z.string().nullable(),
    restricted: z.boolean().openapi({ description: 'Dunning ended unpaid: every feature is off until the invoice is paid' }),
    features: z.record(z.string(), z.boolean()),
    limits: z.record(z.string(), Limit),
    periodStart: z.string().nullable(),
    periodEnd: z.string().nullable(),
    computedAt: z.string(),
  })
  .openapi('Entitlements');

export const entitlements = router().openapi(
  createRoute({
    method: 'get',
    path: '/{teamId}/entitlements',
    tags: ['entitlements'],
    summary: "The team's features and limits, with this period's usage",
    security: [{ appJwt: [] }],
    middleware: [requireApp('entitlements:read', { team: 'path' })] as const,
    request: { params: TeamIdParam },
    responses: { 200: { description: 'Entitlements', content: { 'application/json': { schema: Entitlements } } }, ...problemResponses },
  }),
  async (c) => {
    const { teamId } = c.req.valid('param');
    const hit = cache.get(teamId);
    if (hit && hit.expiresAt > Date.now()) return c.json(hit.value, 200);
    const value = await teamEntitlements(c.get('deps').sql, teamId);
    cache.set(teamId, { value, expiresAt: Date.now() + ENTITLEMENTS_CACHE_TTL_MS });
    return c.json(value, 200);
  },
);
