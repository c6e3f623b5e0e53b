/** Operator routes of a team's wallet: read it, grant credit (with a reason) and change its settings; the writes are audited. */
import { createRoute, z } from '@hono/zod-openapi';
import { validationError } from '../../shared/errors.js';
import { LIMITS } from '../../shared/limits.js';
import { grantCredit } from '../../wallets/grants.js';
import { teamCurrency } from '../../wallets/wallet-store.js';
import { changeWalletSettings, walletView } from '../../wallets/wallet-view.js';
import { requireAdmin } from '../auth/admin.js';
import { problemResponses, router, TeamIdParam } from '../openapi.js';
import { idempotencyKey } from './checkout.js';
import { AmountInput, GrantSchema, grantJson, toAmountMinor, WalletSchema, walletJson } from './wallet-schema.js';

const security = [{ adminBearer: [] }];

const GrantInput = z
  .object({
    amount: AmountInput,
    source: z.enum(['purchase', 'promotion', 'plan_allowance', 'refund', 'manual']),
    reason: z.string().trim().min(1).max(LIMITS.walletGrantReasonLengthMax).openapi({ description: 'Why; recorded with the grant and in the audit log' }),
    priority: z
      .number()
      .int()
      .min(0)
      .max(LIMITS.walletGrantPriorityMax)
      .optional()
      .openapi({ description: `Lower is spent first; default ${LIMITS.walletGrantPriorityDefault}` }),
    expiresAt: z.iso.datetime({ offset: true }).nullable().optional().openapi({ description: 'The unused remainder leaves the wallet at exactly this time; none = never' }),
  })
  .strict()
  .openapi('WalletGrantInput');

const SettingsInput = z
  .object({
    billingMode: z.enum(['arrears', 'wallet', 'wallet_then_arrears']).optional(),
    overdraftLimit: AmountInput.optional().openapi({ description: 'How far debits may go beyond the credit, on the receivable; "0" = none' }),
    lowBalanceThreshold: AmountInput.nullable().optional().openapi({ description: 'null clears it' }),
  })
  .strict()
  .refine((s) => Object.keys(s).length > 0, { message: 'must change at least one setting' })
  .openapi('WalletSettingsInput');

const json = <S extends z.ZodType>(schema: S) => ({ content: { 'application/json': { schema } } });

export const adminWallet = router();
adminWallet.use('*', requireAdmin);

adminWallet
  .openapi(
    createRoute({
      method: 'get',
      path: '/{teamId}/wallet',
      tags: ['admin'],
      summary: "A team's wallet as its app sees it: balance, held, available, settings and grants",
      description: 'The operator view of GET /v1/teams/{teamId}/wallet (used by `npm run cli -- wallets show`).',
      security,
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
      method: 'post',
      path: '/{teamId}/wallet/grants',
      tags: ['admin'],
      summary: "Grant credit to a team's wallet",
      description:
        'Purchases fund the wallet from Stripe clearing; refunds and manual grants from wallet adjustments; promotions and plan allowances fund the promo account. Idempotent by the `Idempotency-Key` header; recorded in the audit log as `wallet.grant_created`.',
      security,
      request: { params: TeamIdParam, headers: z.object({ 'idempotency-key': z.string().optional() }), body: { ...json(GrantInput), required: true } },
      responses: { 201: { description: 'Granted', ...json(GrantSchema) }, 200: { description: 'Replay', ...json(GrantSchema) }, ...problemResponses },
    }),
    async (c) => {
      const { sql } = c.get('deps');
      const { teamId } = c.req.valid('param');
      const body = c.req.valid('json');
      const key = idempotencyKey(c);
      const now = new Date();
      const amountMinor = toAmountMinor(body.amount, await teamCurrency(sql, teamId), 'amount');
      const expiresAt = body.expiresAt ? new Date(body.expiresAt) : null;
      if (expiresAt && (expiresAt.getTime() <= now.getTime() || expiresAt.getTime() > now.getTime() + LIMITS.walletGrantExpiryAheadMaxMs)) {
        throw validationError([{ path: 'expiresAt', message: 'must be in the future, at most ten years ahead (LIMITS.walletGrantExpiryAheadMaxMs)' }]);
      }
      const { grant, replayed } = await grantCredit(
        sql,
        { teamId, source: body.source, amountMinor, priority: body.priority, expiresAt, reason: body.reason, idempotencyKey: key },
        'admin',
        now,
      );
      if (replayed) c.header('Idempotency-Replayed', 'true');
      return c.json(grantJson(grant, now), replayed ? 200 : 201);
    },
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/{teamId}/wallet',
      tags: ['admin'],
      summary: "Change a wallet's billing mode, overdraft limit or low-balance threshold",
      description: 'Recorded in the audit log as `wallet.settings_changed` with the settings before and after.',
      security,
      request: { params: TeamIdParam, body: { ...json(SettingsInput), required: true } },
      responses: { 200: { description: 'The wallet', ...json(WalletSchema) }, ...problemResponses },
    }),
    async (c) => {
      const { sql } = c.get('deps');
      const { teamId } = c.req.valid('param');
      const body = c.req.valid('json');
      const currency = await teamCurrency(sql, teamId);
      await changeWalletSettings(
        sql,
        teamId,
        {
          billingMode: body.billingMode,
          overdraftLimitMinor: body.overdraftLimit === undefined ? undefined : toAmountMinor(body.overdraftLimit, currency, 'overdraftLimit', { allowZero: true }),
          lowBalanceThresholdMinor:
            body.lowBalanceThreshold === undefined ? undefined : body.lowBalanceThreshold === null ? null : toAmountMinor(body.lowBalanceThreshold, currency, 'lowBalanceThreshold', { allowZero: true }),
        },
        'admin',
      );
      const now = new Date();
      return c.json(walletJson(await walletView(sql, teamId, now), now), 200);
    },
  );
