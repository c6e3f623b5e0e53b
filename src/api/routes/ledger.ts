/** App routes reading a team's ledger: balances of its accounts and its entries, a page at a time. */
import { createRoute, z } from '@hono/zod-openapi';
import { isTeamAccount, teamBalances, teamEntries, type EntryCursor } from '../../ledger/read.js';
import { AppError, notFound } from '../../shared/errors.js';
import { LIMITS } from '../../shared/limits.js';
import { formatMinor } from '../../shared/money.js';
import { requireApp } from '../auth/app-token.js';
import { problemResponses, router, TeamIdParam } from '../openapi.js';

const MinorString = z.string().regex(/^-?\d+$/).openapi({ description: 'Integer minor units at the currency ledger scale, as a decimal string', example: '5000000' });
const MajorString = z.string().openapi({ description: 'The same amount in major units, exact', example: '5.000000' });

const BalanceSchema = z
  .object({
    accountCode: z.string().openapi({ example: 'wallet:team_xyz:USD' }),
    kind: z.enum(['asset', 'liability', 'equity', 'revenue', 'expense']),
    currency: z.string(),
    scale: z.number().int().openapi({ description: 'Digits after the decimal point of the minor units' }),
    balanceMinor: MinorString,
    balance: MajorString,
    minBalanceMinor: MinorString.nullable().openapi({ description: 'Floor of the balance (0 = no overdraft); null = none' }),
    maxBalanceMinor: MinorString.nullable(),
    entryCount: MinorString.openapi({ description: 'Entries posted to the account so far' }),
  })
  .openapi('LedgerBalance');

const BalancesSchema = z.object({ teamId: z.string(), balances: z.array(BalanceSchema) }).openapi('LedgerBalances');

const EntrySchema = z
  .object({
    entryId: z.string(),
    transactionId: z.string(),
    transactionCode: z.string().openapi({ example: 'usage_charge' }),
    effectiveAt: z.string().openapi({ description: 'Business time of the movement (ISO 8601)' }),
    createdAt: z.string(),
    accountCode: z.string(),
    currency: z.string(),
    side: z.enum(['debit', 'credit']),
    amountMinor: MinorString,
    amount: MajorString,
    balanceBeforeMinor: MinorString,
    balanceAfterMinor: MinorString,
    balanceAfter: MajorString,
    accountVersion: MinorString,
    metadata: z.record(z.string(), z.unknown()),
  })
  .openapi('LedgerEntry');

const EntryPageSchema = z
  .object({ entries: z.array(EntrySchema), nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last page' }) })
  .openapi('LedgerEntryPage');

const EntryQuerySchema = z
  .object({
    account: z.string().min(1).max(200).optional().openapi({ description: 'Only entries of this account of the team', example: 'wallet:team_xyz:USD' }),
    from: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Effective at or after (inclusive)' }),
    to: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Effective before (exclusive)' }),
    limit: z.coerce.number().int().min(1).max(LIMITS.pageSizeMax).default(LIMITS.pageSizeDefault)
      .openapi({ description: `Entries per page, at most ${LIMITS.pageSizeMax} (LIMITS.pageSizeMax)` }),
    cursor: z.string().max(200).optional(),
  })
  .strict()
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), { path: ['to'], message: 'must be after from' });

const CURSOR_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

export function encodeCursor(c: EntryCursor): string {
  return Buffer.from(JSON.stringify([c.effectiveAt, c.entryId])).toString('base64url');
}

export function decodeCursor(raw: string): EntryCursor {
  try {
    const [effectiveAt, entryId] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown[];
    if (typeof effectiveAt === 'string' && CURSOR_RE.test(effectiveAt) && typeof entryId === 'string' && /^\d{1,19}$/.test(entryId)) {
      return { effectiveAt, entryId };
    }
  } catch {
    // Falls through to the validation problem below.
  }
  throw new AppError('validation_failed', 'The request is not valid', { fields: [{ path: 'query.cursor', message: 'is not a cursor this API returned' }] });
}

const security = [{ appJwt: [] }];

export const ledger = router()
  .openapi(
    createRoute({
      method: 'get',
      path: '/{teamId}/balances',
      tags: ['ledger'],
      summary: "Balances of the team's ledger accounts",
      description: 'Wallet, promotional credit and receivable per currency; amounts as decimal strings in minor and major units.',
      security,
      middleware: [requireApp('billing:read', { team: 'path' })] as const,
      request: { params: TeamIdParam },
      responses: { 200: { description: 'The balances', content: { 'application/json': { schema: BalancesSchema } } }, ...problemResponses },
    }),
    async (c) => {
      const { teamId } = c.req.valid('param');
      const balances = await teamBalances(c.get('deps').sql, teamId);
      return c.json(
        {
          teamId,
          balances: balances.map((b) => ({
            accountCode: b.accountCode,
            kind: b.kind,
            currency: b.currency,
            scale: b.scale,
            balanceMinor: b.balanceMinor.toString(),
            balance: formatMinor(b.balanceMinor, b.scale),
            minBalanceMinor: b.minBalanceMinor?.toString() ?? null,
            maxBalanceMinor: b.maxBalanceMinor?.toString() ?? null,
            entryCount: b.entryCount.toString(),
          })),
        },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/{teamId}/ledger',
      tags: ['ledger'],
      summary: "The team's ledger entries, newest first",
      description: 'Ordered by effective time, then entry; filter by account and effective-time range; follow `nextCursor` for older entries.',
      security,
      middleware: [requireApp('billing:read', { team: 'path' })] as const,
      request: { params: TeamIdParam, query: EntryQuerySchema },
      responses: { 200: { description: 'A page of entries', content: { 'application/json': { schema: EntryPageSchema } } }, ...problemResponses },
    }),
    async (c) => {
      const { teamId } = c.req.valid('param');
      const q = c.req.valid('query');
      const { sql } = c.get('deps');
      const after = q.cursor ? decodeCursor(q.cursor) : undefined;
      if (q.account && !(await isTeamAccount(sql, teamId, q.account))) throw notFound(`Account ${q.account} of team ${teamId}`);
      const page = await teamEntries(sql, teamId, {
        accountCode: q.account,
        from: q.from ? new Date(q.from) : undefined,
        to: q.to ? new Date(q.to) : undefined,
        limit: q.limit,
        after,
      });
      return c.json(
        {
          entries: page.entries.map((e) => ({
            entryId: e.entryId.toString(),
            transactionId: e.transactionId,
            transactionCode: e.transactionCode,
            effectiveAt: e.effectiveAt.toISOString(),
            createdAt: e.createdAt.toISOString(),
            accountCode: e.accountCode,
            currency: e.currency,
            side: e.side,
            amountMinor: e.amountMinor.toString(),
            amount: formatMinor(e.amountMinor, e.scale),
            balanceBeforeMinor: e.balanceBeforeMinor.toString(),
            balanceAfterMinor: e.balanceAfterMinor.toString(),
            balanceAfter: formatMinor(e.balanceAfterMinor, e.scale),
            accountVersion: e.accountVersion.toString(),
            metadata: e.metadata,
          })),
          nextCursor: page.next ? encodeCursor(page.next) : null,
        },
        200,
      );
    },
  );
