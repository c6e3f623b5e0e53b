/**
 * Type test (checked by `npm run typecheck` and by test/types/type-tests.test.ts in `npm test`): the
 * SDK's hand-written response types (sdk/src/types.ts) and the api's zod schemas describe the same
 * JSON. Each pair must have the same keys, level by level, and each side must be assignable to the
 * other, so renaming, adding or retyping a field on either side alone fails here.
 */
import type { z } from '@hono/zod-openapi';
import type * as Sdk from '../../sdk/src/types.js';
import type { CheckoutResponse } from '../../src/api/routes/checkout.js';
import type { Entitlements, Limit } from '../../src/api/routes/entitlements.js';
import type { InvoicePreview } from '../../src/api/routes/invoice-preview.js';
import type { ComputedLine, Invoice, Line } from '../../src/api/routes/invoices.js';
import type { Accepted, Proration, SubscriptionSchema } from '../../src/api/routes/subscription.js';
import type { TeamSchema } from '../../src/api/routes/team-schema.js';
import type { TeamUsageSchema, UsageResult, UsageRowSchema } from '../../src/api/routes/usage.js';
import type { CaptureSchema, GrantSchema, HoldSchema, WalletEntryPageSchema, WalletEntrySchema, WalletEventPageSchema, WalletEventSchema, WalletSchema } from '../../src/api/routes/wallet-schema.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Same keys (optional ones included, which assignability alone lets through) and mutually assignable. */
type Agree<Client, Server> = Same<keyof Client, keyof Server> extends true ? Same<Client, Server> : false;
/** Fails to compile unless `T` is `true`; the error names the pair. */
type Holds<T extends true> = T;

type Server<S extends z.ZodType> = z.output<S>;

export type Contract = [
  Holds<Agree<Sdk.WalletGrant, Server<typeof GrantSchema>>>,
  Holds<Agree<Omit<Sdk.Wallet, 'grants'>, Omit<Server<typeof WalletSchema>, 'grants'>>>,
  Holds<Agree<Sdk.Wallet, Server<typeof WalletSchema>>>,
  Holds<Agree<Sdk.WalletEntry, Server<typeof WalletEntrySchema>>>,
  Holds<Agree<Sdk.WalletEntryPage, Server<typeof WalletEntryPageSchema>>>,
  Holds<Agree<Sdk.WalletHold, Server<typeof HoldSchema>>>,
  Holds<Agree<Sdk.WalletEvent, Server<typeof WalletEventSchema>>>,
  Holds<Agree<Sdk.WalletEventPage, Server<typeof WalletEventPageSchema>>>,
  Holds<Agree<Sdk.WalletCapture, Server<typeof CaptureSchema>>>,
  Holds<Agree<Sdk.InvoiceLine, Server<typeof Line>>>,
  Holds<Agree<Omit<Sdk.InvoiceLine, 'stripeInvoiceItemId' | 'ledgerTransactionId'>, Server<typeof ComputedLine>>>,
  Holds<Agree<Omit<Sdk.Invoice, 'lines'>, Omit<Server<typeof Invoice>, 'lines'>>>,
  Holds<Agree<Sdk.Invoice, Server<typeof Invoice>>>,
  Holds<Agree<Omit<Sdk.InvoicePreview, 'lines'>, Omit<Server<typeof InvoicePreview>, 'lines'>>>,
  Holds<Agree<Sdk.InvoicePreview, Server<typeof InvoicePreview>>>,
  Holds<Agree<Omit<Sdk.ChangeProration, 'lines'>, Omit<Server<typeof Proration>, 'lines'>>>,
  Holds<Agree<Sdk.ChangeProration, Server<typeof Proration>>>,
  Holds<Agree<Omit<Sdk.SubscriptionChange, 'proration'>, Omit<Server<typeof Accepted>, 'proration'>>>,
  Holds<Agree<Sdk.SubscriptionChange, Server<typeof Accepted>>>,
  Holds<Agree<Sdk.Subscription, Server<typeof SubscriptionSchema>>>,
  Holds<Agree<Sdk.UsageRow, Server<typeof UsageRowSchema>>>,
  Holds<Agree<Omit<Sdk.TeamUsage, 'rows'>, Omit<Server<typeof TeamUsageSchema>, 'rows'>>>,
  Holds<Agree<Sdk.TeamUsage, Server<typeof TeamUsageSchema>>>,
  Holds<Agree<Sdk.UsageEventResult, Server<typeof UsageResult>['results'][number]>>,
  Holds<Agree<Omit<Sdk.UsageReport, 'results'>, Omit<Server<typeof UsageResult>, 'results'>>>,
  Holds<Agree<Sdk.UsageReport, Server<typeof UsageResult>>>,
  Holds<Agree<Sdk.LimitState, Server<typeof Limit>>>,
  Holds<Agree<Omit<Sdk.Entitlements, 'limits'>, Omit<Server<typeof Entitlements>, 'limits'>>>,
  Holds<Agree<Sdk.Entitlements, Server<typeof Entitlements>>>,
  // `url` is the SDK's own alias of checkoutUrl (client.ts adds it).
  Holds<Agree<Omit<Sdk.Checkout, 'url'>, Server<typeof CheckoutResponse>>>,
  // provisioningWorkflowId is only in the operator's answer to POST /admin/teams, which apps never see.
  Holds<Agree<Sdk.Team, Omit<Server<typeof TeamSchema>, 'provisioningWorkflowId'>>>,
];
