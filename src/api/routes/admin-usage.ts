/** Operator route of usage: post the queued COGS of ingested batches to the ledger now (src/usage/cogs-fold.ts). */
import { createRoute, z } from '@hono/zod-openapi';
import { LIMITS } from '../../shared/limits.js';
import { foldCogs } from '../../usage/cogs-fold.js';
import { requireAdmin } from '../auth/admin.js';
import { problemResponses, router } from '../openapi.js';

export const adminUsage = router();
adminUsage.use('*', requireAdmin);

adminUsage.openapi(
  createRoute({
    method: 'post',
    path: '/cogs-fold',
    tags: ['admin'],
    summary: 'Post queued COGS to the ledger now',
    description: `Ingest queues each batch's rounded COGS differences; every api process posts them as one ledger transaction every ${LIMITS.usageCogsFoldIntervalMs} ms (LIMITS.usageCogsFoldIntervalMs). This posts what is queued now. Idempotent: what is posted leaves the queue in the same transaction.`,
    security: [{ adminBearer: [] }],
    responses: {
      200: {
        description: 'The posting, or null when nothing was queued',
        content: { 'application/json': { schema: z.object({ postingKey: z.string().nullable(), providers: z.array(z.string()) }) } },
      },
      ...problemResponses,
    },
  }),
  async (c) => {
    const { postingSeq, providers } = await foldCogs(c.get('deps').sql, 'admin');
    return c.json({ postingKey: postingSeq === null ? null : `cogs:${postingSeq}`, providers }, 200);
  },
);
