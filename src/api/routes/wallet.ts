/** App routes of a team's wallet: balance and grants, history, and holds (reserve, capture, release). */
import { createRoute, z } from '@hono/zod-openapi';
import { LIMITS } from '../../shared/limits.js';
import { formatMinor } from '../../shared/money.js';
import { captureHold, createHold, releaseHold } from '../../wallets/holds.js';
import { teamCurrency } from '../../wallets/wallet-store.js';
import { walletEntries, walletView } from '../../wallets/wallet-view.js';
import { teamEvents } from '../../platform/team-event-store.js';
import { requireApp } from '../auth/app-token.js';
import { problemResponses, router, TeamIdParam } from '../openapi.js';
import { idempotencyKey } from './checkout.js';
import { decodeCursor, encodeCursor } from './ledger.js';
import { AmountInput, CaptureSchema, HoldSchema, holdJson, toAmountMinor, WalletEntryPageSchema, WalletEventPageSchema, WalletSchema, walletJson } from './wallet-schema.js';

const security = [{ appJwt: [] }];

const HoldParams = TeamIdParam.extend({
  holdId: z.uuid().openapi({ param: { name: 'holdId', in: 'path' }, example: '0192f1d2-8c4e-7a10-9c1b-5d2e3f4a5b6c' }),
});

const HoldInput = z
  .object({
    amount: AmountInput,
    ttlSeconds: z
      .number()
      .int()
      .min(1)
      .max(LIMITS.walletHoldTtlSecondsMax)
      .optional()
      .openapi({ description: `Seconds until the hold counts as released; default ${LIMITS.walletHoldTtlSecondsDefault}, at most ${LIMITS.walletHoldTtlSecondsMax} (LIMITS.walletHoldTtlSecondsMax)` }),
  })
  .strict()
  .openapi('WalletHoldInput');

const CaptureInput = z
  .object({ amount: AmountInput.optional().openapi({ description: 'At most the held amount; default all of it' }) })
  .strict()
  .openapi('WalletCaptureInput');

const PageQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(LIMITS.pageSizeMax).default(LIMITS.pageSizeDefault)
      .openapi({ description: `Entries per page, at most ${LIMITS.pageSizeMax} (LIMITS.pageSizeMax)` }),
    cursor: z.string().max(200).optional(),
  })
  .strict();

const EventPageQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(LIMITS.pageSizeMax).default(LIMITS.pageSizeDefault)
      .openapi({ description: `Events per page, at most ${LIMITS.pageSizeMax} (LIMITS.pageSizeMax)` }),
    cursor: z.string().regex(/^[1-9]\d{0,17}$/, 'must be a nextCursor this API returned').optional(),
  })
  .strict();

const json = <S extends z.ZodType>(schema: S) => ({ content: { 'application/json': { schema } } });

export const wallet = router()
  .openapi(
    createRoute({
      method: 'get',
      path: '/{teamId}/wallet',
      tags: ['wallet'],
      summary: "The team's wallet: balance, held, available and grants",
      description: 'available = balance − open holds. Grants expired at this instant no longer count, even before the expiry sweep posts them.',
      security,
      middleware: [requireApp('wallet:read', { team: 'path' })] as const,
      request: { params: TeamIdParam },
      responses: { 200: { description: 'The wallet', ...json(WalletSchema) }, ...problemResponses },
    }),
    async (c) => {
      const now = new Date();
      return c.json(walletJson(await walletView(c.get('deps').sql, c.req.valid('param').teamId, now), now), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/{teamId}/wallet/events',
      tags: ['wallet'],
      summary: "The wallet's low-balance and depleted events, newest first",
      description: 'Each is raised once per crossing: `wallet.balance_low` below the low-balance threshold, `wallet.depleted` at nothing available; again only after the balance was back above.',
      security,
      middleware: [requireApp('wallet:read', { team: 'path' })] as const,
      request: { params: TeamIdParam, query: EventPageQuery },
      responses: { 200: { description: 'A page of events', ...json(WalletEventPageSchema) }, ...problemResponses },
    }),
    async (c) => {
      const { teamId } = c.req.valid('param');
      const q = c.req.valid('query');
      const page = await teamEvents(c.get('deps').sql, teamId, { typePrefix: 'wallet.', limit: q.limit, beforeId: q.cursor === undefined ? undefined : BigInt(q.cursor) });
      return c.json(
        {
          events: page.events.map((e) => ({ eventId: e.eventId, type: e.type as 'wallet.balance_low' | 'wallet.depleted', detail: e.detail, occurredAt: e.occurredAt.toISOString() })),
          nextCursor: page.next === null ? null : page.next.toString(),
        },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/{teamId}/wallet/transactions',
      tags: ['wallet'],
      summary: "The wallet's ledger entries, newest first, with balance before and after",
      security,
      middleware: [requireApp('wallet:read', { team: 'path' })] as const,
      request: { params: TeamIdParam, query: PageQuery },
      responses: { 200: { description: 'A page of entries', ...json(WalletEntryPageSchema) }, ...problemResponses },
    }),
    async (c) => {
      const { teamId } = c.req.valid('param');
      const q = c.req.valid('query');
      const page = await walletEntries(c.get('deps').sql, teamId, { limit: q.limit, after: q.cursor ? decodeCursor(q.cursor) : undefined });
      return c.json(
        {
          entries: page.entries.map((e) => ({
            entryId: e.entryId.toString(),
            transactionId: e.transactionId,
            transactionCode: e.transactionCode,
            effectiveAt: e.effectiveAt.toISOString(),
            accountCode: e.accountCode,
            side: e.side,
            amountMinor: e.amountMinor.toString(),
            amount: formatMinor(e.amountMinor, e.scale),
            balanceBeforeMinor: e.balanceBeforeMinor.toString(),
            balanceBefore: formatMinor(e.balanceBeforeMinor, e.scale),
            balanceAfterMinor: e.balanceAfterMinor.toString(),
            balanceAfter: formatMinor(e.balanceAfterMinor, e.scale),
            metadata: e.metadata,
          })),
          nextCursor: page.next ? encodeCursor(page.next) : null,
        },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/{teamId}/wallet/holds',
      tags: ['wallet'],
      summary: 'Reserve part of the available balance',
      description:
        'Idempotent by the `Idempotency-Key` header. insufficient_funds (422) when the available balance is short. The hold counts as released after `ttlSeconds` and can no longer be captured.',
      security,
      middleware: [requireApp('wallet:write', { team: 'path' })] as const,
      request: { params: TeamIdParam, headers: z.object({ 'idempotency-key': z.string().optional() }), body: { ...json(HoldInput), required: true } },
      responses: { 201: { description: 'Held', ...json(HoldSchema) }, 200: { description: 'Replay', ...json(HoldSchema) }, ...problemResponses },
    }),
    async (c) => {
      const { sql } = c.get('deps');
      const { teamId } = c.req.valid('param');
      const body = c.req.valid('json');
      const key = idempotencyKey(c);
      const amountMinor = toAmountMinor(body.amount, await teamCurrency(sql, teamId), 'amount');
      const now = new Date();
      const { hold, replayed } = await createHold(sql, { teamId, appId: c.get('principal').appId, amountMinor, ttlSeconds: body.ttlSeconds, idempotencyKey: key }, now);
      if (replayed) c.header('Idempotency-Replayed', 'true');
      return c.json(holdJson(hold, now), replayed ? 200 : 201);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/{teamId}/wallet/holds/{holdId}/capture',
      tags: ['wallet'],
      summary: 'Debit up to the held amount and release the rest',
      description: 'Idempotent by the hold: capturing again with the same amount returns the first capture; a released or expired hold is a conflict (409).',
      security,
      middleware: [requireApp('wallet:write', { team: 'path' })] as const,
      request: { params: HoldParams, body: { ...json(CaptureInput), required: false } },
      responses: { 200: { description: 'Captured', ...json(CaptureSchema) }, ...problemResponses },
    }),
    async (c) => {
      const { sql } = c.get('deps');
      const { teamId, holdId } = c.req.valid('param');
      const body = c.req.header('content-type') ? c.req.valid('json') : {};
      const amountMinor = body.amount === undefined ? undefined : toAmountMinor(body.amount, await teamCurrency(sql, teamId), 'amount');
      const now = new Date();
      const { hold, debit, replayed } = await captureHold(sql, { teamId, holdId, amountMinor }, now);
      if (replayed) c.header('Idempotency-Replayed', 'true');
      return c.json({ hold: holdJson(hold, now), ledgerTransactionId: debit.ledgerTransactionId }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/{teamId}/wallet/holds/{holdId}/release',
      tags: ['wallet'],
      summary: 'Release a hold',
      description: 'Releasing a released or expired hold answers with it unchanged; a captured hold is a conflict (409).',
      security,
      middleware: [requireApp('wallet:write', { team: 'path' })] as const,
      request: { params: HoldParams },
      responses: { 200: { description: 'Released', ...json(HoldSchema) }, ...problemResponses },
    }),
    async (c) => {
      const { teamId, holdId } = c.req.valid('param');
      const now = new Date();
      const { hold, replayed } = await releaseHold(c.get('deps').sql, { teamId, holdId }, now);
      if (replayed) c.header('Idempotency-Replayed', 'true');
      return c.json(holdJson(hold, now), 200);
    },
  );
