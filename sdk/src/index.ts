export { createBillingClient, type BillingClient, type BillingClientOptions } from './client.js';
export { BillingApiError, BillingNetworkError, type FieldError } from './errors.js';
export { ERROR_CODES, type BillingErrorCode } from './error-codes.js';
export type {
  ChangeProration,
  Checkout,
  CheckoutRequest,
  Entitlements,
  Invoice,
  InvoiceLine,
  InvoicePreview,
  LimitState,
  Subscription,
  SubscriptionChange,
  KnownUsagePayloads,
  Team,
  TeamUsage,
  UsageEvent,
  UsageEventInput,
  UsageEventResult,
  UsageEventStatus,
  UsageEventType,
  UsageQuery,
  UsageReport,
  UsageRow,
  Wallet,
  WalletCapture,
  WalletEntry,
  WalletEntryPage,
  WalletGrant,
  WalletHold,
  WalletHoldRequest,
} from './types.js';
export { USAGE_BATCH_MAX, type SendBatch, type UsageReporter, type UsageReporterOptions } from './usage-reporter.js';
