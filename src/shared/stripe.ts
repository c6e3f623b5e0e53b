/**
 * The only Stripe client of the service (the real `stripe` package). Activities and the webhook
 * route use it; nothing else talks to Stripe. STRIPE_API_URL points it at stripe-mock in development
 * and tests.
 */
import Stripe from 'stripe';

export type { Stripe };

export function createStripe(opts: { secretKey: string; apiUrl?: string | undefined }): Stripe {
  const base: Stripe.StripeConfig = {
    // The SDK retries network errors with the same idempotency key; Temporal retries the rest.
    maxNetworkRetries: 2,
    timeout: 20_000,
    telemetry: false,
    appInfo: { name: 'billing-ledger' },
  };
  if (!opts.apiUrl) return new Stripe(opts.secretKey, base);
  const u = new URL(opts.apiUrl);
  return new Stripe(opts.secretKey, {
    ...base,
    host: u.hostname,
    port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
    protocol: u.protocol === 'https:' ? 'https' : 'http',
  });
}
