/**
 * Named limits, each stated once with its unit last. Changing one here changes it everywhere,
 * including the OpenAPI document and the README, which quote these names.
 */
export const LIMITS = {
  /** Largest request body the API reads, before parsing. */
  requestBodyBytesMax: 1024 * 1024,
  /** Usage events in one `POST /v1/usage` request. */
  usageBatchEventsMax: 1000,
  /** usage_ingest calls in flight at once per api process; batches arriving meanwhile share the next call (group commit). */
  usageIngestCallsInFlightMax: 4,
  /** How often each api process posts the queued COGS of ingested batches to the ledger (the COGS ledger lags by about this much). */
  usageCogsFoldIntervalMs: 1000,
  /** Events one shared (group-commit) ingest call may carry. */
  usageIngestEventsPerCallMax: 500,
  /** How far in the future an event timestamp may be, for clock skew between the app and us. */
  usageFutureSkewMs: 5 * 60 * 1000,
  /** How old an event may be when it arrives; older events are rejected outright. */
  usageLatenessMaxMs: 35 * 24 * 60 * 60 * 1000,
  /**
   * Overflow bounds of usage, counters and the money derived from them (issue #13). The ledger keeps
   * USD as bigint micro-dollars: at most 9,223,372,036,854,775,807 µ$ ≈ 9.22e12 USD.
   *
   * - One quantity of one event ≤ usageEventQuantityMax = 1e15 (exact in JSON, < 2^53). A gauge,
   *   maximum or latest value is one event's quantity, so its period quantity is bounded by it too.
   * - An additive (sum, count) counter is split into at most usageCounterStripesMax = 64 stripes
   *   (usage_counters.stripe), each held to its meter's stripe ceiling (src/pricing/meters.ts:
   *   usageTokensPerStripeMax 1e12, usageBytesPerStripeMax 1e16, usageCountPerStripeMax 1e7) in
   *   the ingest transaction: an event that would pass it is rejected (counter_limit). So a
   *   counter's period quantity ≤ 64 × its stripe ceiling: 6.4e13 tokens, 6.4e17 bytes, 6.4e8 units.
   * - A unit price (catalog) or cost rate (admin) is at most usageCounterAmountMaxUsd = 1e10 USD
   *   divided by its meter's largest period quantity ($156.25 per 1M tokens, $15.625 per GB,
   *   $15.625 per image), so one counter's price or cost per period ≤ 1e10 USD = 1e16 µ$.
   * - An invoice carries at most planUsagePricesMax (200) usage lines ≤ 2e12 USD = 2e18 µ$ of the
   *   9.22e18 µ$ a bigint holds: 4.6× headroom for fixed fees, seats, add-ons and late-usage
   *   adjustments. A COGS posting nets at most usageIngestEventsPerCallMax events' counters per
   *   batch; ledger account balances grow with business volume, not with any one input.
   */
  usageEventQuantityMax: 1e15,
  usageCounterStripesMax: 64,
  usageTokensPerStripeMax: 1e12,
  usageBytesPerStripeMax: 1e16,
  usageCountPerStripeMax: 1e7,
  usageCounterAmountMaxUsd: 1e10,
  /** Idempotency keys of usage events and API writes. */
  idempotencyKeyLengthMax: 255,
  /** Nesting of a usage payload; deeper JSON is rejected before schema validation. */
  usagePayloadDepthMax: 8,
  /** The `source` of a usage event (e.g. `my-tool/1.0.0`). */
  usageSourceLengthMax: 200,
  /** Days (or periods) one usage read or margin report may span. */
  usageReportDaysMax: 400,
  /** Longest app-token lifetime (`exp - iat`). */
  tokenLifetimeSecondsMax: 300,
  /** Clock skew tolerated on `iat`, `nbf` and `exp`. */
  tokenClockSkewSeconds: 10,
  /** Active HMAC secrets per app: the current one and the previous during a rotation. */
  appSecretsActiveMax: 2,
  /** Items per page of list endpoints. */
  pageSizeMax: 200,
  pageSizeDefault: 50,
  /** Ledger transactions in one posting call (one database transaction). */
  ledgerPostBatchMax: 1000,
  /** ledger_post calls in flight at once per pool; postings submitted meanwhile wait and share the next call (group commit). */
  ledgerPostCallsInFlightMax: 2,
  /** Ledger transactions one shared (group-commit) call may carry. */
  ledgerGroupCommitTransactionsMax: 200,
  /** Legs of one ledger transaction. */
  ledgerLegsPerTransactionMax: 512,
  /**
   * Wallets (issue #9). One amount of a grant, debit, hold, overdraft limit or low-balance threshold is
   * at most walletAmountMinorMax = 1e15 minor units (1e9 USD at scale 6); a wallet holds at most
   * walletOpenGrantsMax grants with credit left, so the sum of its grants ≤ 1e18 < 9.22e18 (int8).
   */
  walletAmountMinorMax: 1_000_000_000_000_000n,
  walletOpenGrantsMax: 1000,
  /** Grants: priority (lower is spent first), reason, and how far ahead an expiry may lie. */
  walletGrantPriorityMax: 10_000,
  walletGrantPriorityDefault: 100,
  walletGrantReasonLengthMax: 500,
  walletGrantExpiryAheadMaxMs: 10 * 366 * 24 * 60 * 60 * 1000,
  /** Holds: how long one may reserve credit before it counts as released (default, and most). */
  walletHoldTtlSecondsDefault: 15 * 60,
  walletHoldTtlSecondsMax: 7 * 24 * 60 * 60,
  /** Catalog: tiers of one graduated or volume price. */
  priceTiersMax: 50,
  /** Catalog: usage prices, add-ons, features and limits of one plan version. */
  planUsagePricesMax: 200,
  planAddOnsMax: 50,
  planFeaturesMax: 200,
  planLimitsMax: 100,
  /** Catalog: plans in one catalog file (`npm run cli -- catalog apply`). */
  catalogFilePlansMax: 200,
  /** URLs we store or hand to Stripe (Checkout success and cancel URLs); the schema says the same. */
  urlLengthMax: 2048,
  /** Stripe webhook timestamp tolerance, both ways: older signatures are replays, newer ones are not Stripe's clock. */
  stripeWebhookToleranceSeconds: 300,
  /** Nesting of a Stripe webhook body; Stripe's events nest about ten levels, deeper is not Stripe. */
  stripeEventDepthMax: 32,
  /** Stripe ids (`evt_…`, `sub_…`, `in_…`) and event types as we store them. */
  stripeIdLengthMax: 255,
  stripeEventTypeLengthMax: 100,
  /** Problems recorded for one parked (unprocessable) Stripe event. */
  stripeEventProblemsMax: 50,
  /** How far ahead an operator may schedule a subscription's start (`startsAt`). */
  subscriptionStartAheadMaxMs: 366 * 24 * 60 * 60 * 1000,
  /** How far back `startsAt` may lie: clock skew between the operator and us, never a backdated period. */
  subscriptionStartSkewMs: 5 * 60 * 1000,
  /** Net terms of a subscription collected by invoice (Stripe's days_until_due); 30 when not given. */
  subscriptionDaysUntilDueMax: 365,
  subscriptionDaysUntilDueDefault: 30,
  /** How long a seat or add-on change request waits for the workflow to apply it, to answer with its proration. */
  subscriptionChangeWaitMs: 3_000,
  /** How far one test clock advance may move the clock (two years: a year of a team and then some). */
  testClockAdvanceMaxMs: 731 * 24 * 60 * 60 * 1000,
  /** How long an advance waits for the clock's workflows to settle before it answers `settled: false`. */
  testClockSettleWaitMs: 120_000,
} as const;
