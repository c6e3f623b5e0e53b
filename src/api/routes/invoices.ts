/** A team's invoices, newest first, and one invoice with its lines (each traceable to meter, price version and ledger). */
import { createRoute, z } from '@hono/zod-openapi';
import { getTeamInvoice, listTeamInvoices } from '../../billing/invoices.js';
import { LIMITS } from '../../shared/limits.js';
import { requireApp } from '../auth/app-token.js';
import { problemResponses, router, TeamIdParam } from '../openapi.js';

const Line = z.object({
  lineNo: z.number().int(),
  kind: z.string(),
  description: z.string(),
  planVersionId: z.string(),
  priceKey: z.string().nullable(),
  meter: z.string().nullable(),
  quantity: z.string(),
  amountExact: z.string(),
  amount: z.string(),
  amountCharged: z.string(),
  coversStart: z.string(),
  coversEnd: z.string(),
  provenance: z.record(z.string(), z.unknown()),
  stripeInvoiceItemId: z.string().nullable(),
  ledgerTransactionId: z.string().nullable(),
});

const Invoice = z
  .object({
    invoiceId: z.string(),
    teamId: z.string(),
    subscriptionId: z.string(),
    periodStart: z.string(),
    periodEnd: z.string(),
    currency: z.string(),
    status: z.string(),
    total: z.string().openapi({ description: 'Exact total at ledger scale (micro-units), major units' }),
    totalCharged: z.string().openapi({ description: 'What Stripe charges: Σ lines rounded to cents' }),
    stripeInvoiceId: z.string().nullable(),
    ledgerTransactionId: z.string().nullable(),
    createdAt: z.string(),
    paidAt: z.string().nullable(),
    lines: z.array(Line).optional(),
  })
  .openapi('Invoice');

const read = { security: [{ appJwt: [] }], middleware: [requireApp('billing:read', { team: 'path' })] };

export const invoices = router()
  .openapi(
    createRoute({
      method: 'get',
      path: '/{teamId}/invoices',
      tags: ['invoices'],
      summary: "The team's invoices, newest first",
      ...read,
      request: {
        params: TeamIdParam,
        query: z.object({
          limit: z.coerce.number().int().min(1).max(LIMITS.pageSizeMax).optional(),
          before: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Cursor: `next` of the previous page' }),
        }),
      },
      responses: { 200: { description: 'A page', content: { 'application/json': { schema: z.object({ invoices: z.array(Invoice), next: z.string().nullable() }) } } }, ...problemResponses },
    }),
    async (c) => {
      const { teamId } = c.req.valid('param');
      return c.json(await listTeamInvoices(c.get('deps').sql, teamId, c.req.valid('query')), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/{teamId}/invoices/{invoiceId}',
      tags: ['invoices'],
      summary: 'One invoice with its lines',
      ...read,
      request: { params: TeamIdParam.extend({ invoiceId: z.string().regex(/^inv_[0-9a-f]{24}$/, 'must be an invoice id') }) },
      responses: { 200: { description: 'The invoice', content: { 'application/json': { schema: Invoice } } }, ...problemResponses },
    }),
    async (c) => {
      const { teamId, invoiceId } = c.req.valid('param');
      return c.json(await getTeamInvoice(c.get('deps').sql, teamId, invoiceId), 200);
    },
  );
