/** Operator routes for the plan catalog: publish a version (idempotent by content), list and read. */
import { createRoute, z } from '@hono/zod-openapi';
import { getPlanHistory, getPlanVersionByNumber, listPlans, publishPlanVersion } from '../../catalog/plan-versions.js';
import { PublishPlanSchema } from '../../catalog/schema.js';
import { requireAdmin } from '../auth/admin.js';
import { problemResponses, router } from '../openapi.js';
import { PlanCodeParam, PlanListQuery, PlanPageSchema, PlanVersionSchema } from './plan-schema.js';

const security = [{ adminBearer: [] }];

const PlanHistorySchema = z
  .object({ code: z.string(), name: z.string(), createdAt: z.string(), versions: z.array(PlanVersionSchema) })
  .openapi('PlanHistory');

const VersionParams = PlanCodeParam.extend({
  version: z
    .string()
    .regex(/^[1-9]\d{0,8}$/, 'must be a version number')
    .openapi({ param: { name: 'version', in: 'path' }, example: '1' }),
});

export const adminPlans = router();
adminPlans.use('*', requireAdmin);

adminPlans
  .openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['admin', 'catalog'],
      summary: 'Publish a plan version',
      description:
        'Publishes the body as the next version of plan `code` (creating the plan on first publish). Content equal to the latest ' +
        'version returns that version with 200 and `Idempotency-Replayed: true`; published versions never change. ' +
        'With `expectedLatestVersion`, a plan that has moved on answers 409 `conflict`.',
      security,
      request: { body: { content: { 'application/json': { schema: PublishPlanSchema } }, required: true } },
      responses: {
        201: { description: 'Published', content: { 'application/json': { schema: PlanVersionSchema } } },
        200: { description: 'Same content as the latest version: that version', content: { 'application/json': { schema: PlanVersionSchema } } },
        ...problemResponses,
      },
    }),
    async (c) => {
      const { version, created } = await publishPlanVersion(c.get('deps').sql, c.req.valid('json'), 'admin');
      if (!created) c.header('Idempotency-Replayed', 'true');
      return c.json(version, created ? 201 : 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['admin', 'catalog'],
      summary: 'List plans with their latest versions',
      security,
      request: { query: PlanListQuery },
      responses: { 200: { description: 'A page of plans', content: { 'application/json': { schema: PlanPageSchema } } }, ...problemResponses },
    }),
    async (c) => c.json(await listPlans(c.get('deps').sql, c.req.valid('query')), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/{planCode}',
      tags: ['admin', 'catalog'],
      summary: 'Read a plan and its versions, newest first',
      security,
      request: { params: PlanCodeParam },
      responses: { 200: { description: 'The plan', content: { 'application/json': { schema: PlanHistorySchema } } }, ...problemResponses },
    }),
    async (c) => c.json(await getPlanHistory(c.get('deps').sql, c.req.valid('param').planCode), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/{planCode}/versions/{version}',
      tags: ['admin', 'catalog'],
      summary: 'Read one plan version',
      security,
      request: { params: VersionParams },
      responses: { 200: { description: 'The version', content: { 'application/json': { schema: PlanVersionSchema } } }, ...problemResponses },
    }),
    async (c) => {
      const { planCode, version } = c.req.valid('param');
      return c.json(await getPlanVersionByNumber(c.get('deps').sql, planCode, Number(version)), 200);
    },
  );
