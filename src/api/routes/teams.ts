/** App routes about a team itself. */
import { createRoute } from '@hono/zod-openapi';
import { getTeam } from '../../platform/teams.js';
import { requireApp } from '../auth/app-token.js';
import { problemResponses, router, TeamIdParam } from '../openapi.js';
import { TeamSchema } from './team-schema.js';

export const teams = router().openapi(
  createRoute({
    method: 'get',
    path: '/{teamId}',
    tags: ['teams'],
    summary: 'Read a team and its billing status',
    security: [{ appJwt: [] }],
    middleware: [requireApp('teams:read', { team: 'path' })] as const,
    request: { params: TeamIdParam },
    responses: { 200: { description: 'The team', content: { 'application/json': { schema: TeamSchema } } }, ...problemResponses },
  }),
  async (c) => {
    const team = await getTeam(c.get('deps').sql, c.req.valid('param').teamId);
    return c.json(team, 200);
  },
);
