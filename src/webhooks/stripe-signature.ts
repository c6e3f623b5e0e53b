/**
 * Stripe's signature on a webhook body, with the timestamp tolerance applied both ways. The stripe
 * package rejects signatures older than the tolerance but accepts any timestamp in the future, so a
 * signature made (or replayed) with a clock far ahead would stay valid for ever; we refuse those too.
 */
import type { Stripe } from '../shared/stripe.js';
import { AppError } from '../shared/errors.js';
import { LIMITS } from '../shared/limits.js';

/**
 * `t=` of a `Stripe-Signature` header, when it is a plain integer. The last one counts, as in the
 * stripe package's own parsing: the timestamp checked must be the one the signature was verified with.
 */
function signedAtSeconds(header: string): number | undefined {
  let signedAt: string | undefined;
  for (const part of header.split(',')) {
    const [key, value] = part.split('=');
    if (key === 't') signedAt = value;
  }
  return signedAt !== undefined && /^\d{1,12}$/.test(signedAt) ? Number(signedAt) : undefined;
}

/** Verifies `raw` against the header; throws `webhook_signature_invalid` (400, nothing stored) otherwise. */
export async function verifyStripeSignature(stripe: Stripe, raw: string, header: string | undefined, secret: string, nowMs = Date.now()): Promise<void> {
  const tolerance = LIMITS.stripeWebhookToleranceSeconds;
  try {
    await stripe.webhooks.signature!.verifyHeaderAsync(raw, header ?? '', secret, tolerance, undefined, nowMs);
  } catch (err) {
    throw new AppError('webhook_signature_invalid', (err as Error).message);
  }
  const signedAt = signedAtSeconds(header ?? '');
  if (signedAt === undefined) throw new AppError('webhook_signature_invalid', 'The signature timestamp (t=) is not a Unix time in seconds');
  if (signedAt > nowMs / 1000 + tolerance) {
    throw new AppError(
      'webhook_signature_invalid',
      `The signature timestamp is ${Math.round(signedAt - nowMs / 1000)} s in the future; at most ${tolerance} s are tolerated (LIMITS.stripeWebhookToleranceSeconds)`,
    );
  }
}
