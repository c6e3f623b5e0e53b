/** createBillingClient: the app's handle on the billing service. */
import { call, type HttpOptions } from './http.js';
import { TOKEN_LIFETIME_DEFAULT_S, TOKEN_LIFETIME_MAX_S } from './token.js';
import type {
  Checkout,
  CheckoutRequest,
  Entitlements,
  Invoice,
  InvoicePreview,
  Subscription,
  SubscriptionChange,
  Team,
  TeamUsage,
  UsageEvent,
  UsageQuery,
  UsageReport,
  Wallet,
  WalletCapture,
  WalletEntryPage,
  WalletEventPage,
  WalletHold,
  WalletHoldRequest,
} from './types.js';
import { createUsageReporter, type UsageReporter, type UsageReporterOptions } from './usage-reporter.js';

export interface BillingClientOptions {
  appId: string;
  /** The app's HMAC secret (`bsk_…`). */
  secret: string;
  baseUrl: string;
  /** Id of the secret, sent as the JWT `kid` so the service tries it first during rotations. */
  secretId?: string;
  /** Token lifetime in seconds, 1–300; default 120. */
  tokenLifetimeS?: number;
  timeoutMs?: number;
  /** Retries of idempotent calls on network errors and 5xx/429; default 3. */
  retriesMax?: number;
  fetch?: typeof fetch;
}

export interface BillingClient {
  /** The team as the service knows it (billing status included). Needs the `teams:read` scope. */
  getTeam(teamId: string): Promise<Team>;
  /**
   * Reports a batch of usage events in one request (at most 1000) and returns each event's status.
   * Safe to retry: events are counted once per idempotency key. Transient failures are retried
   * `retriesMax` times with the same keys. Needs the `usage:write` scope (app-wide token).
   */
  reportUsage(events: UsageEvent[]): Promise<UsageReport>;
  /** A batching reporter for high-volume usage (see UsageReporterOptions). */
  usageReporter(options?: UsageReporterOptions): UsageReporter;
  /** A team's usage per period (or day) with its charge so far. Needs the `usage:read` scope. */
  getUsage(teamId: string, query?: UsageQuery): Promise<TeamUsage>;
  /** Features, limits and this period's usage against them. Needs `entitlements:read`. */
  getEntitlements(teamId: string): Promise<Entitlements>;
  /** A Stripe Checkout for a plan; completion activates the subscription. Needs `checkout:write`. */
  createCheckout(teamId: string, request: CheckoutRequest): Promise<Checkout>;
  /** The team's subscription (live, else the latest). Needs `billing:read`. */
  getSubscription(teamId: string): Promise<Subscription>;
  /** Changes the seats (prorated by Stripe and by the next invoice); answers with the proration once applied. Needs `subscription:write`. */
  changeSeats(teamId: string, seats: number, idempotencyKey?: string): Promise<SubscriptionChange>;
  /** The team's invoices, newest first, a page at a time. Needs `billing:read`. */
  listInvoices(teamId: string, page?: { limit?: number; before?: string }): Promise<{ invoices: Invoice[]; next: string | null }>;
  /** One invoice with its lines. Needs `billing:read`. */
  getInvoice(teamId: string, invoiceId: string): Promise<Invoice>;
  /** The invoice the open period would produce if it closed now; nothing is written. Needs `billing:read`. */
  getUpcomingInvoice(teamId: string): Promise<InvoicePreview>;
  /** Balance, held, available and grants of the team's wallet. Needs `wallet:read`. */
  getWallet(teamId: string): Promise<Wallet>;
  /** The wallet's ledger entries, newest first, with balance before and after. Needs `wallet:read`. */
  listWalletTransactions(teamId: string, page?: { limit?: number; cursor?: string }): Promise<WalletEntryPage>;
  /** Low-balance and depleted events of the wallet, newest first (once per crossing). Needs `wallet:read`. */
  listWalletEvents(teamId: string, page?: { limit?: number; cursor?: string }): Promise<WalletEventPage>;
  /** Reserves credit before long work; insufficient_funds when not available. Needs `wallet:write`. */
  createHold(teamId: string, request: WalletHoldRequest): Promise<WalletHold>;
  /** Debits up to the held amount (default all of it) and releases the rest. Needs `wallet:write`. */
  captureHold(teamId: string, holdId: string, amount?: string): Promise<WalletCapture>;
  /** Releases a hold (a released or expired one answers unchanged). Needs `wallet:write`. */
  releaseHold(teamId: string, holdId: string): Promise<WalletHold>;
}

export function createBillingClient(options: BillingClientOptions): BillingClient {
  const lifetime = options.tokenLifetimeS ?? TOKEN_LIFETIME_DEFAULT_S;
  if (!(lifetime >= 1 && lifetime <= TOKEN_LIFETIME_MAX_S)) {
    throw new RangeError(`tokenLifetimeS must be between 1 and ${TOKEN_LIFETIME_MAX_S}`);
  }
  const http: HttpOptions = {
    baseUrl: options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`,
    appId: options.appId,
    secret: new TextEncoder().encode(options.secret),
    secretId: options.secretId,
    tokenLifetimeS: lifetime,
    timeoutMs: options.timeoutMs ?? 10_000,
    retriesMax: options.retriesMax ?? 3,
    fetch: options.fetch ?? globalThis.fetch,
  };
  const postUsage = (events: UsageEvent[], retry: boolean) =>
    call<UsageReport>(http, { method: 'POST', path: 'v1/usage', scopes: ['usage:write'], body: { events }, retry });
  return {
    getTeam: (teamId) =>
      call<Team>(http, { method: 'GET', path: `v1/teams/${encodeURIComponent(teamId)}`, scopes: ['teams:read'], teamId, retry: true }),
    reportUsage: (events) => postUsage(events, true),
    // The reporter retries on its own terms (until sent or shut down), so each attempt is one request.
    usageReporter: (opts) => createUsageReporter((events) => postUsage(events, false), opts),
    getEntitlements: (teamId) =>
      call<Entitlements>(http, { method: 'GET', path: `v1/teams/${encodeURIComponent(teamId)}/entitlements`, scopes: ['entitlements:read'], teamId, retry: true }),
    createCheckout: async (teamId, { idempotencyKey, ...body }) => {
      // One key for every attempt of this call, so a retry can never open a second checkout.
      const key = idempotencyKey ?? `checkout-${globalThis.crypto.randomUUID()}`;
      const checkout = await call<Omit<Checkout, 'url'>>(http, {
        method: 'POST',
        path: `v1/teams/${encodeURIComponent(teamId)}/checkout`,
        scopes: ['checkout:write'],
        teamId,
        body,
        headers: { 'idempotency-key': key },
        retry: true,
      });
      return { ...checkout, url: checkout.checkoutUrl };
    },
    getSubscription: (teamId) =>
      call<Subscription>(http, { method: 'GET', path: `v1/teams/${encodeURIComponent(teamId)}/subscription`, scopes: ['billing:read'], teamId, retry: true }),
    changeSeats: (teamId, seats, idempotencyKey) =>
      call(http, {
        method: 'POST',
        path: `v1/teams/${encodeURIComponent(teamId)}/subscription/seats`,
        scopes: ['subscription:write'],
        teamId,
        body: { seats },
        headers: { 'idempotency-key': idempotencyKey ?? `seats-${globalThis.crypto.randomUUID()}` },
        retry: true,
      }),
    listInvoices: (teamId, page = {}) => {
      const q = new URLSearchParams(Object.entries(page).flatMap(([k, v]): [string, string][] => (v === undefined ? [] : [[k, String(v)]])));
      const path = `v1/teams/${encodeURIComponent(teamId)}/invoices${q.size > 0 ? `?${q}` : ''}`;
      return call(http, { method: 'GET', path, scopes: ['billing:read'], teamId, retry: true });
    },
    getInvoice: (teamId, invoiceId) =>
      call<Invoice>(http, { method: 'GET', path: `v1/teams/${encodeURIComponent(teamId)}/invoices/${encodeURIComponent(invoiceId)}`, scopes: ['billing:read'], teamId, retry: true }),
    getUpcomingInvoice: (teamId) =>
      call<InvoicePreview>(http, { method: 'GET', path: `v1/teams/${encodeURIComponent(teamId)}/invoices/upcoming`, scopes: ['billing:read'], teamId, retry: true }),
    getUsage: (teamId, query = {}) => {
      const q = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
      const path = `v1/teams/${encodeURIComponent(teamId)}/usage${q.size > 0 ? `?${q}` : ''}`;
      return call<TeamUsage>(http, { method: 'GET', path, scopes: ['usage:read'], teamId, retry: true });
    },
    getWallet: (teamId) =>
      call<Wallet>(http, { method: 'GET', path: `v1/teams/${encodeURIComponent(teamId)}/wallet`, scopes: ['wallet:read'], teamId, retry: true }),
    listWalletTransactions: (teamId, page = {}) => {
      const q = new URLSearchParams(Object.entries(page).flatMap(([k, v]): [string, string][] => (v === undefined ? [] : [[k, String(v)]])));
      const path = `v1/teams/${encodeURIComponent(teamId)}/wallet/transactions${q.size > 0 ? `?${q}` : ''}`;
      return call<WalletEntryPage>(http, { method: 'GET', path, scopes: ['wallet:read'], teamId, retry: true });
    },
    listWalletEvents: (teamId, page = {}) => {
      const q = new URLSearchParams(Object.entries(page).flatMap(([k, v]): [string, string][] => (v === undefined ? [] : [[k, String(v)]])));
      const path = `v1/teams/${encodeURIComponent(teamId)}/wallet/events${q.size > 0 ? `?${q}` : ''}`;
      return call<WalletEventPage>(http, { method: 'GET', path, scopes: ['wallet:read'], teamId, retry: true });
    },
    createHold: (teamId, { idempotencyKey, ...body }) =>
      call<WalletHold>(http, {
        method: 'POST',
        path: `v1/teams/${encodeURIComponent(teamId)}/wallet/holds`,
        scopes: ['wallet:write'],
        teamId,
        body,
        // One key for every attempt of this call, so a retry can never reserve twice.
        headers: { 'idempotency-key': idempotencyKey ?? `hold-${globalThis.crypto.randomUUID()}` },
        retry: true,
      }),
    // Capture and release are idempotent by the hold itself, so retrying them is safe.
    captureHold: (teamId, holdId, amount) =>
      call<WalletCapture>(http, {
        method: 'POST',
        path: `v1/teams/${encodeURIComponent(teamId)}/wallet/holds/${encodeURIComponent(holdId)}/capture`,
        scopes: ['wallet:write'],
        teamId,
        body: amount === undefined ? {} : { amount },
        retry: true,
      }),
    releaseHold: (teamId, holdId) =>
      call<WalletHold>(http, {
        method: 'POST',
        path: `v1/teams/${encodeURIComponent(teamId)}/wallet/holds/${encodeURIComponent(holdId)}/release`,
        scopes: ['wallet:write'],
        teamId,
        retry: true,
      }),
  };
}
