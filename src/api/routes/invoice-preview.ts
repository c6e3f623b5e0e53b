/**
 * `GET /v1/teams/:teamId/invoices/upcoming`: the invoice the team's open period would produce if it
 * closed now, computed by the period close's own rating (src/billing/invoice-preview.ts).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { previewInvoice } from '../../billing/invoice-preview.js';
import { teamNow } from '../../test-clocks/team-time.js';
import { INVOICE_ROUNDING_RULE } from '../../billing/period-lines.js';
import { requireApp } from '../auth/app-token.js';
import { problemResponses, router, TeamIdParam } from '../openapi.js';
import { ComputedLine } from './invoices.js';

export const InvoicePreview = z
  .object({
    invoiceId: z.string().openapi({ description: 'The id the closed invoice will have' }),
    teamId: z.string(),
    subscriptionId: z.string(),
    periodStart: z.string(),
    periodEnd: z.string(),
    mode: z.enum(['renewal', 'final']).openapi({ description: 'renewal: the next period\'s fixed fees are charged in advance; final: the subscription ends with this period' }),
    nextPeriodEnd: z.string().nullable(),
    asOf: z.string(),
    currency: z.string(),
    total: z.string().openapi({ description: 'Σ line amounts at ledger scale, major units' }),
    totalCharged: z.string().openapi({ description: 'Σ line amounts in cents, major units: what Stripe would charge' }),
    lines: z.array(ComputedLine),
  })
  .openapi('InvoicePreview');

export const invoicePreview = router().openapi(
  createRoute({
    method: 'get',
    path: '/{teamId}/invoices/upcoming',
    tags: ['invoices'],
    summary: 'Preview the invoice of the open period',
    description: `The lines the open period would produce if it closed now, from the same rating as the close: usage per meter, dimensions and price of the plan version, fixed fees of the next period (in advance), prorations of changes so far, and late usage of earlier periods. Nothing is written. ${INVOICE_ROUNDING_RULE}`,
    security: [{ appJwt: [] }],
    middleware: [requireApp('billing:read', { team: 'path' })] as const,
    request: { params: TeamIdParam },
    responses: { 200: { description: 'The preview', content: { 'application/json': { schema: InvoicePreview } } }, ...problemResponses },
  }),
  async (c) => {
    const { sql, subscriptionTiming } = c.get('deps');
    const { teamId } = c.req.valid('param');
    // A team on a test clock previews as of the clock's time.
    return c.json(await previewInvoice(sql, teamId, subscriptionTiming, await teamNow(sql, teamId)), 200);
  },
);
