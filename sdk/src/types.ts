/** Shapes the service returns. Kept in step with the api's zod schemas by test/types/sdk-contract.ts (run by npm test). */

export interface Team {
  teamId: string;
  name: string;
  kind: 'personal' | 'shared';
  externalRef: string | null;
  currency: string;
  lateUsagePolicy: 'adjust' | 'reject';
  appIds: string[];
  stripeCustomerId: string | null;
  /** The test clock the team lives on (time simulation); null: real time. */
  testClockId: string | null;
  createdAt: string;
}

/** Payloads of the event types the service knows (see GET /docs); other types pass as records. */
export interface KnownUsagePayloads {
  'llm.tokens.v1': { provider: string; model: string; inputTokens: number; outputTokens: number; cachedInputTokens?: number };
  'storage.bytes.v1': { provider: string; bytes: number };
  'bandwidth.bytes.v1': { provider: string; direction: 'ingress' | 'egress'; bytes: number };
  'image.generated.v1': { provider: string; model: string; size: string };
}

export type UsageEventType = keyof KnownUsagePayloads | (string & {});

/** One usage event as the service takes it. */
export interface UsageEvent<T extends UsageEventType = UsageEventType> {
  /** Unique per app, for ever: a resend with the same key is counted once. */
  idempotencyKey: string;
  eventType: T;
  /** ISO 8601 with an offset, e.g. new Date().toISOString(). */
  timestamp: string;
  teamId: string;
  payload: T extends keyof KnownUsagePayloads ? KnownUsagePayloads[T] : Record<string, unknown>;
  /** What reported it, e.g. `my-tool/1.0.0`. */
  source: string;
}

/** What `track()` takes: key, timestamp and source are filled in when missing. */
export type UsageEventInput<T extends UsageEventType = UsageEventType> = Omit<UsageEvent<T>, 'idempotencyKey' | 'timestamp' | 'source'> &
  Partial<Pick<UsageEvent<T>, 'idempotencyKey' | 'timestamp' | 'source'>>;

export type UsageEventStatus = 'accepted' | 'duplicate' | 'conflict' | 'rejected';

export interface UsageEventResult {
  index: number;
  idempotencyKey: string;
  /**
   * accepted: counted now; duplicate: counted before, not again; conflict: the key was used with
   * other content, not counted; rejected: not counted and not remembered (see `reason`).
   */
  status: UsageEventStatus;
  reason?: 'timestamp_too_old' | 'timestamp_in_future' | 'period_closed' | 'counter_limit' | 'payload_differs' | (string & {});
  eventId?: string;
  /** Counted into a closed billing period, as an adjustment on the next invoice. */
  adjusted?: true;
}

export interface UsageReport {
  results: UsageEventResult[];
  accepted: number;
  duplicates: number;
  conflicts: number;
  rejected: number;
}

export interface UsageQuery {
  /** A UTC day (YYYY-MM-DD) or an ISO timestamp; default: the current period. */
  from?: string;
  to?: string;
  granularity?: 'period' | 'day';
  meter?: string;
  app?: string;
}

export interface UsageRow {
  periodId: string;
  periodStart: string;
  periodEnd: string;
  periodStatus: 'open' | 'closed';
  day?: string;
  meter: string;
  unit: string;
  dimensions: Record<string, string>;
  /** Decimal string; for a gauge the average over the period. */
  quantity: string;
  events: number;
  /** Estimated charge so far (decimal string, in `currency`). */
  price: string;
  currency: string | null;
  note?: 'no_plan' | 'no_price';
}

export interface TeamUsage {
  teamId: string;
  from: string;
  to: string;
  granularity: 'period' | 'day';
  rows: UsageRow[];
}

export interface LimitState {
  meter: string | null;
  value: string | null;
  window: string;
  enforcement: 'hard' | 'soft';
  used: string | null;
  remaining: string | null;
  thresholdsReached: string[];
  exceeded: boolean;
}

export interface Entitlements {
  teamId: string;
  planVersionId: string | null;
  subscriptionStatus: string | null;
  restricted: boolean;
  features: Record<string, boolean>;
  limits: Record<string, LimitState>;
  periodStart: string | null;
  periodEnd: string | null;
  computedAt: string;
}

export interface CheckoutRequest {
  planCode: string;
  seats?: number;
  addOns?: string[];
  /** Where Checkout returns after payment; default: the app's checkoutSuccessUrl, set at app registration. */
  successUrl?: string;
  /** Where Checkout returns when the customer cancels; default: the app's checkoutCancelUrl. */
  cancelUrl?: string;
  /** Makes retries safe; generated when omitted (and reused by the client's own retries). */
  idempotencyKey?: string;
}

export interface Checkout {
  subscriptionId: string;
  planVersionId: string;
  status: string;
  checkoutSessionId: string;
  checkoutUrl: string;
  /** Alias of checkoutUrl, as in `const { url } = await billing.createCheckout(...)`. */
  url: string;
}

export interface Subscription {
  subscriptionId: string;
  teamId: string;
  status: 'incomplete' | 'active' | 'past_due' | 'restricted' | 'canceled';
  planVersionId: string;
  seats: number;
  addOns: string[];
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
  cancelAtPeriodEnd: boolean;
  stripeSubscriptionId: string | null;
  workflowId: string;
  createdAt: string;
}

export interface InvoiceLine {
  lineNo: number;
  kind: 'fixed' | 'proration' | 'usage' | 'adjustment';
  description: string;
  planVersionId: string;
  priceKey: string | null;
  meter: string | null;
  /** The dimension sets (e.g. provider and model) whose usage a usage line rates; null for fixed fees. */
  dimensions: Record<string, string>[] | null;
  quantity: string;
  /** Exact, major units. */
  amountExact: string;
  /** At ledger scale (USD: 6 decimals), rounded half-even from amountExact. */
  amount: string;
  /** In cents, rounded half-up (halves away from zero) from amountExact: the line on the Stripe invoice. */
  amountCharged: string;
  coversStart: string;
  coversEnd: string;
  provenance: Record<string, unknown>;
  stripeInvoiceItemId: string | null;
  ledgerTransactionId: string | null;
}

/**
 * What the open period's invoice would be if it closed now (same rating as the close). Totals are
 * sums of the rounded lines: `total` at ledger scale, `totalCharged` in cents.
 */
/** The proration a seat, add-on or plan change causes: the lines the period's close invoices for it. */
export interface ChangeProration {
  effectiveAt: string;
  periodStart: string | null;
  periodEnd: string | null;
  fromPlanVersionId: string;
  toPlanVersionId: string;
  /** Cents, major units: Σ credits (positive), Σ charges, charge − credit. */
  creditAmount: string;
  chargeAmount: string;
  netAmount: string;
  lines: Omit<InvoiceLine, 'stripeInvoiceItemId' | 'ledgerTransactionId'>[];
}

/** A change request's answer: applied with its proration, accepted (applied soon), or unchanged. */
export interface SubscriptionChange {
  subscriptionId: string;
  requestId: string;
  status: 'accepted' | 'applied' | 'unchanged';
  proration: ChangeProration | null;
}

export interface InvoicePreview {
  /** The id the closed invoice will have. */
  invoiceId: string;
  teamId: string;
  subscriptionId: string;
  periodStart: string;
  periodEnd: string;
  mode: 'renewal' | 'final';
  nextPeriodEnd: string | null;
  asOf: string;
  currency: string;
  total: string;
  totalCharged: string;
  lines: Omit<InvoiceLine, 'stripeInvoiceItemId' | 'ledgerTransactionId'>[];
}

export interface Invoice {
  invoiceId: string;
  teamId: string;
  subscriptionId: string;
  periodStart: string;
  periodEnd: string;
  currency: string;
  status: string;
  total: string;
  totalCharged: string;
  stripeInvoiceId: string | null;
  ledgerTransactionId: string | null;
  createdAt: string;
  paidAt: string | null;
  lines?: InvoiceLine[];
}

/** One credit grant of a wallet; amounts in minor units (ledger scale) and major units, as decimal strings. */
export interface WalletGrant {
  grantId: string;
  source: 'purchase' | 'promotion' | 'plan_allowance' | 'refund' | 'manual';
  /** The ledger account holding the credit. */
  account: 'wallet' | 'promo';
  currency: string;
  amountMinor: string;
  amount: string;
  /** What of the amount paid back the team's overdraft instead of becoming credit. */
  overdraftSettledMinor: string;
  overdraftSettled: string;
  remainingMinor: string;
  remaining: string;
  /** Lower is spent first. */
  priority: number;
  expiresAt: string | null;
  status: 'active' | 'depleted' | 'expired';
  reason: string;
  ledgerTransactionId: string;
  createdAt: string;
}

/** A team's wallet: available = balance − held. */
export interface Wallet {
  teamId: string;
  currency: string;
  scale: number;
  billingMode: 'arrears' | 'wallet' | 'wallet_then_arrears';
  balanceMinor: string;
  balance: string;
  heldMinor: string;
  held: string;
  availableMinor: string;
  available: string;
  overdraftLimitMinor: string;
  overdraftLimit: string;
  overdraftUsedMinor: string;
  overdraftUsed: string;
  lowBalanceThresholdMinor: string | null;
  grants: WalletGrant[];
}

/** One ledger entry of the wallet (its wallet or promo account). */
export interface WalletEntry {
  entryId: string;
  transactionId: string;
  transactionCode: string;
  effectiveAt: string;
  accountCode: string;
  side: 'debit' | 'credit';
  amountMinor: string;
  amount: string;
  balanceBeforeMinor: string;
  balanceBefore: string;
  balanceAfterMinor: string;
  balanceAfter: string;
  metadata: Record<string, unknown>;
}

export interface WalletEntryPage {
  entries: WalletEntry[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** A low-balance notice, raised once per crossing: below the wallet's threshold, or nothing available. */
export interface WalletEvent {
  eventId: string;
  type: 'wallet.balance_low' | 'wallet.depleted';
  /** currency, availableMinor, thresholdMinor, cause (the movement that crossed). */
  detail: Record<string, unknown>;
  occurredAt: string;
}

export interface WalletEventPage {
  events: WalletEvent[];
  /** Pass as `cursor` for older events; null on the last page. */
  nextCursor: string | null;
}

/** A reservation of available credit; `expired` once past expiresAt (it then counts as released). */
export interface WalletHold {
  holdId: string;
  status: 'open' | 'captured' | 'released' | 'expired';
  currency: string;
  amountMinor: string;
  amount: string;
  capturedMinor: string | null;
  captured: string | null;
  expiresAt: string;
  createdAt: string;
}

export interface WalletHoldRequest {
  /** Major units as a decimal string, e.g. "2.50". */
  amount: string;
  /** Seconds until the hold counts as released; default 900. */
  ttlSeconds?: number;
  /** Default: a fresh one per call (reused by the call's retries). */
  idempotencyKey?: string;
}

export interface WalletCapture {
  hold: WalletHold;
  ledgerTransactionId: string;
}
