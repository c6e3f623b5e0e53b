/** Operator routes for teams: create (which connects the team to billing), connect apps, read. */
import { createRoute, z } from '@hono/zod-openapi';
import { connectApp, createTeam, getTeam } from '../../platform/teams.js';
import { startProvisionTeam } from '../../orchestration/provision-team.js';
import { requireAdmin } from '../auth/admin.js';
import { IdSchema, problemResponses, router, TeamIdParam } from '../openapi.js';
import { TeamSchema } from './team-schema.js';

const TeamInput = z
  .object({
    teamId: IdSchema.openapi({ example: 'team_xyz' }),
    name: z.string().min(1).max(200),
    kind: z.enum(['personal', 'shared']),
    externalRef: z.string().min(1).max(200).optional(),
    currency: z.enum(['USD', 'EUR', 'GBP']).default('USD'),
    lateUsagePolicy: z.enum(['adjust', 'reject']).optional(),
    appIds: z.array(IdSchema).max(100).optional(),
    testClockId: z
      .string()
      .regex(/^clock_[A-Za-z0-9]{8,40}$/, 'must be a test clock id')
      .optional()
      .openapi({ description: "Create the team on this test clock (POST /admin/test-clocks): its periods, dunning and usage windows follow the clock's time. Fixed for the team's life." }),
  })
  .strict()
  .openapi('TeamInput');

const security = [{ adminBearer: [] }];

export const adminTeams = router();
adminTeams.use('*', requireAdmin);

adminTeams
  .openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['admin'],
      summary: 'Create a team and connect it to billing',
      description:
        'Idempotent by teamId. Starts the provisionTeam workflow (`team:<teamId>:provision`), which creates the Stripe customer once.',
      security,
      request: { body: { content: { 'application/json': { schema: TeamInput } }, required: true } },
      responses: {
        201: { description: 'Created', content: { 'application/json': { schema: TeamSchema } } },
        200: { description: 'Replay', content: { 'application/json': { schema: TeamSchema } } },
        ...problemResponses,
      },
    }),
    async (c) => {
      const { sql, temporal, taskQueue } = c.get('deps');
      const input = c.req.valid('json');
      const { team, replayed } = await createTeam(sql, input, 'admin');
      // Also on replays: if Temporal was down the first time, the retry starts provisioning.
      const workflowId = await startProvisionTeam(temporal, taskQueue, team.teamId);
      if (replayed) c.header('Idempotency-Replayed', 'true');
      return c.json({ ...team, provisioningWorkflowId: workflowId }, replayed ? 200 : 201);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/{teamId}/apps',
      tags: ['admin'],
      summary: 'Connect an app to a team',
      security,
      request: {
        params: TeamIdParam,
        body: { content: { 'application/json': { schema: z.object({ appId: IdSchema }).strict() } }, required: true },
      },
      responses: { 200: { description: 'Connected', content: { 'application/json': { schema: TeamSchema } } }, ...problemResponses },
    }),
    async (c) => {
      const { sql, directory } = c.get('deps');
      const { teamId } = c.req.valid('param');
      const team = await connectApp(sql, teamId, c.req.valid('json').appId, 'admin');
      directory.invalidateTeam(teamId);
      return c.json(team, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/{teamId}',
      tags: ['admin'],
      summary: 'Read a team',
      security,
      request: { params: TeamIdParam },
      responses: { 200: { description: 'The team', content: { 'application/json': { schema: TeamSchema } } }, ...problemResponses },
    }),
    async (c) => c.json(await getTeam(c.get('deps').sql, c.req.valid('param').teamId), 200),
  );
