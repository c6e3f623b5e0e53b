/** The public plan catalog for apps (scope catalog:read; no team needed): what a team can subscribe to. */
import { createRoute } from '@hono/zod-openapi';
import { getLatestPlanVersion, listPlans } from '../../catalog/plan-versions.js';
import { requireApp } from '../auth/app-token.js';
import { problemResponses, router } from '../openapi.js';
import { PlanCodeParam, PlanListQuery, PlanPageSchema, PlanVersionSchema } from './plan-schema.js';

const security = [{ appJwt: [] }];

export const plans = router()
  .openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['catalog'],
      summary: 'List plans with their latest versions',
      security,
      middleware: [requireApp('catalog:read', { team: 'any' })] as const,
      request: { query: PlanListQuery },
      responses: { 200: { description: 'A page of plans', content: { 'application/json': { schema: PlanPageSchema } } }, ...problemResponses },
    }),
    async (c) => c.json(await listPlans(c.get('deps').sql, c.req.valid('query')), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/{planCode}',
      tags: ['catalog'],
      summary: 'Read the latest version of a plan',
      security,
      middleware: [requireApp('catalog:read', { team: 'any' })] as const,
      request: { params: PlanCodeParam },
      responses: { 200: { description: 'The latest version', content: { 'application/json': { schema: PlanVersionSchema } } }, ...problemResponses },
    }),
    async (c) => c.json(await getLatestPlanVersion(c.get('deps').sql, c.req.valid('param').planCode), 200),
  );
