/** A team's invoices, newest first, and one invoice with its lines (each traceable to meter, price version and ledger). */
import { createRoute, z } from '@hono/zod-openapi';
import { getTeamInvoice, listTeamInvoices } from '../../billing/invoices.js';
import { INVOICE_ROUNDING_RULE } from '../../billing/period-lines.js';
import { LIMITS } from '../../shared/limits.js';
import { requireApp } from '../auth/app-token.js';
import { problemResponses, router, TeamIdParam } from '../openapi.js';

/** A line as computed (preview) or stored; a stored one also names its Stripe item and ledger transaction. */
export const ComputedLine = z
  .object({
    lineNo: z.number().int(),
    kind: z.enum(['fixed', 'proration', 'usage', 'adjustment']),
    description: z.string(),
    planVersionId: z.string().openapi({ description: 'The plan version whose price this line applies' }),
    priceKey: z.string().nullable().openapi({ description: 'The component (base, seat, add_on:<code>) or usage price of the plan version' }),
    meter: z.string().nullable(),
    dimensions: z.array(z.record(z.string(), z.string())).nullable().openapi({ description: 'The dimension sets (e.g. provider and model) whose usage a usage line rates' }),
    quantity: z.string(),
    amountExact: z.string().openapi({ description: 'Exact amount, major units' }),
    amount: z.string().openapi({ description: 'At ledger scale (USD: 6 decimals), rounded half-even from amountExact' }),
    amountCharged: z.string().openapi({ description: 'Rounded to cents half-up (halves away from zero) from amountExact: this line on the Stripe invoice' }),
    coversStart: z.string(),
    coversEnd: z.string(),
    provenance: z.record(z.string(), z.unknown()),
  })
  .openapi('InvoiceLine');

export const Line = ComputedLine.extend({
  stripeInvoiceItemId: z.string().nullable(),
  ledgerTransactionId: z.string().nullable(),
});

export const Invoice = z
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
  .openapi('Invoice', { description: INVOICE_ROUNDING_RULE });

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
