/**
 * Schemas and conversions shared by the wallet routes (app and admin). Amounts arrive as decimal
 * strings in major units and leave in both major and minor units, as the ledger routes answer.
 */
import { z } from '@hono/zod-openapi';
import { Dec, formatMinor, ledgerScale } from '../../shared/money.js';
import { LIMITS } from '../../shared/limits.js';
import { validationError } from '../../shared/errors.js';
import type { GrantRow } from '../../wallets/grant-store.js';
import type { HoldRow } from '../../wallets/hold-store.js';
import { effectiveStatus } from '../../wallets/hold-store.js';
import { grantStatus, type WalletView } from '../../wallets/wallet-view.js';

const MAX_MAJOR = formatMinor(LIMITS.walletAmountMinorMax, 6);

/** A wire amount in major units; its range and scale are checked against the currency by toAmountMinor. */
export const AmountInput = z
  .string()
  .regex(/^(0|[1-9]\d{0,18})(\.\d{1,12})?$/, 'must be a decimal amount in major units, e.g. "12.50"')
  .openapi({ description: `Major units as a decimal string, at most the currency's ledger scale (USD: 6) decimals, above 0 and at most ${MAX_MAJOR} (LIMITS.walletAmountMinorMax)`, example: '12.50' });

/**
 * Converts a validated wire amount to minor units at the currency's ledger scale, exactly: more
 * decimals than the scale, 0, or more than LIMITS.walletAmountMinorMax is a 400 naming `path`.
 */
export function toAmountMinor(value: string, currency: string, path: string, opts: { allowZero?: boolean } = {}): bigint {
  const scale = ledgerScale(currency);
  const d = new Dec(value);
  if (d.decimalPlaces() > scale) throw validationError([{ path, message: `must have at most ${scale} decimals in ${currency}` }]);
  const minor = BigInt(d.times(new Dec(10).pow(scale)).toFixed(0));
  if (minor === 0n && !opts.allowZero) throw validationError([{ path, message: 'must be above 0' }]);
  if (minor > LIMITS.walletAmountMinorMax) {
    throw validationError([{ path, message: `must be at most ${formatMinor(LIMITS.walletAmountMinorMax, scale)} (LIMITS.walletAmountMinorMax)` }]);
  }
  return minor;
}

const MinorString = z.string().regex(/^-?\d+$/).openapi({ description: 'Integer minor units at the currency ledger scale, as a decimal string', example: '5000000' });
const MajorString = z.string().openapi({ description: 'The same amount in major units, exact', example: '5.000000' });

export const GrantSchema = z
  .object({
    grantId: z.string(),
    source: z.enum(['purchase', 'promotion', 'plan_allowance', 'refund', 'manual']),
    account: z.enum(['wallet', 'promo']).openapi({ description: 'The ledger account holding the credit' }),
    currency: z.string(),
    amountMinor: MinorString,
    amount: MajorString,
    overdraftSettledMinor: MinorString.openapi({ description: "What of the amount paid back the team's overdraft instead of becoming credit" }),
    overdraftSettled: MajorString,
    remainingMinor: MinorString,
    remaining: MajorString,
    priority: z.number().int().openapi({ description: 'Lower is spent first' }),
    expiresAt: z.string().nullable(),
    status: z.enum(['active', 'depleted', 'expired']),
    reason: z.string(),
    ledgerTransactionId: z.string(),
    createdAt: z.string(),
  })
  .openapi('WalletGrant');

export const WalletSchema = z
  .object({
    teamId: z.string(),
    currency: z.string(),
    scale: z.number().int(),
    billingMode: z.enum(['arrears', 'wallet', 'wallet_then_arrears']),
    balanceMinor: MinorString,
    balance: MajorString,
    heldMinor: MinorString,
    held: MajorString,
    availableMinor: MinorString,
    available: MajorString,
    overdraftLimitMinor: MinorString,
    overdraftLimit: MajorString,
    overdraftUsedMinor: MinorString,
    overdraftUsed: MajorString,
    lowBalanceThresholdMinor: MinorString.nullable(),
    grants: z.array(GrantSchema).openapi({ description: `Newest first, at most ${LIMITS.pageSizeMax}` }),
  })
  .openapi('Wallet');

export const WalletEventSchema = z
  .object({
    eventId: z.string().openapi({ description: 'Increasing; pass the last one seen as `cursor` for older events' }),
    type: z.enum(['wallet.balance_low', 'wallet.depleted']).openapi({
      description: 'balance_low: the available balance fell below the low-balance threshold; depleted: nothing is available. Once per crossing.',
    }),
    detail: z.record(z.string(), z.unknown()).openapi({ description: 'currency, availableMinor, thresholdMinor, cause (the movement that crossed)' }),
    occurredAt: z.string(),
  })
  .openapi('WalletEvent');

export const WalletEventPageSchema = z
  .object({ events: z.array(WalletEventSchema), nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for older events; null on the last page' }) })
  .openapi('WalletEventPage');

export const HoldSchema = z
  .object({
    holdId: z.string(),
    status: z.enum(['open', 'captured', 'released', 'expired']),
    currency: z.string(),
    amountMinor: MinorString,
    amount: MajorString,
    capturedMinor: MinorString.nullable(),
    captured: MajorString.nullable(),
    expiresAt: z.string(),
    createdAt: z.string(),
  })
  .openapi('WalletHold');

export const CaptureSchema = z.object({ hold: HoldSchema, ledgerTransactionId: z.string() }).openapi('WalletCapture');

export const WalletEntrySchema = z
  .object({
    entryId: z.string(),
    transactionId: z.string(),
    transactionCode: z.string().openapi({ example: 'wallet_debit' }),
    effectiveAt: z.string(),
    accountCode: z.string(),
    side: z.enum(['debit', 'credit']),
    amountMinor: MinorString,
    amount: MajorString,
    balanceBeforeMinor: MinorString,
    balanceBefore: MajorString,
    balanceAfterMinor: MinorString,
    balanceAfter: MajorString,
    metadata: z.record(z.string(), z.unknown()),
  })
  .openapi('WalletEntry');

export const WalletEntryPageSchema = z
  .object({ entries: z.array(WalletEntrySchema), nextCursor: z.string().nullable() })
  .openapi('WalletEntryPage');

export function grantJson(g: GrantRow, now: Date): z.output<typeof GrantSchema> {
  const scale = ledgerScale(g.currency);
  return {
    grantId: g.id,
    source: g.source,
    account: g.account,
    currency: g.currency,
    amountMinor: g.amountMinor.toString(),
    amount: formatMinor(g.amountMinor, scale),
    overdraftSettledMinor: g.overdraftSettledMinor.toString(),
    overdraftSettled: formatMinor(g.overdraftSettledMinor, scale),
    remainingMinor: g.remainingMinor.toString(),
    remaining: formatMinor(g.remainingMinor, scale),
    priority: g.priority,
    expiresAt: g.expiresAt?.toISOString() ?? null,
    status: grantStatus(g, now),
    reason: g.reason,
    ledgerTransactionId: g.ledgerTransactionId,
    createdAt: g.createdAt.toISOString(),
  };
}

export function walletJson(v: WalletView, now: Date): z.output<typeof WalletSchema> {
  const scale = ledgerScale(v.wallet.currency);
  const both = (minor: bigint) => [minor.toString(), formatMinor(minor, scale)] as const;
  const [balanceMinor, balance] = both(v.balanceMinor);
  const [heldMinor, held] = both(v.heldMinor);
  const [availableMinor, available] = both(v.availableMinor);
  const [overdraftLimitMinor, overdraftLimit] = both(v.wallet.overdraftLimitMinor);
  const [overdraftUsedMinor, overdraftUsed] = both(v.wallet.overdraftUsedMinor);
  return {
    teamId: v.wallet.teamId,
    currency: v.wallet.currency,
    scale,
    billingMode: v.wallet.billingMode,
    balanceMinor,
    balance,
    heldMinor,
    held,
    availableMinor,
    available,
    overdraftLimitMinor,
    overdraftLimit,
    overdraftUsedMinor,
    overdraftUsed,
    lowBalanceThresholdMinor: v.wallet.lowBalanceThresholdMinor?.toString() ?? null,
    grants: v.grants.map((g) => grantJson(g, now)),
  };
}

export function holdJson(h: HoldRow, now: Date): z.output<typeof HoldSchema> {
  const scale = ledgerScale(h.currency);
  return {
    holdId: h.id,
    status: effectiveStatus(h, now),
    currency: h.currency,
    amountMinor: h.amountMinor.toString(),
    amount: formatMinor(h.amountMinor, scale),
    capturedMinor: h.capturedMinor?.toString() ?? null,
    captured: h.capturedMinor === null ? null : formatMinor(h.capturedMinor, scale),
    expiresAt: h.expiresAt.toISOString(),
    createdAt: h.createdAt.toISOString(),
  };
}
