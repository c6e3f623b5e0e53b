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
  /** Events one shared (group-commit) ingest call may carry. */
  usageIngestEventsPerCallMax: 500,
  /** How far in the future an event timestamp may be, for clock skew between the app and us. */
  usageFutureSkewMs: 5 * 60 * 1000,
  /** How old an event may be when it arrives; older events are rejected outright. */
  usageLatenessMaxMs: 35 * 24 * 60 * 60 * 1000,
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
} as const;
