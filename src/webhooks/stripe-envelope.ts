/**
 * What a correctly signed Stripe webhook body must be before we store or route it: a JSON event
 * envelope (`id`, `type`, `created`, `livemode`, `data.object`) that Postgres can store (no NUL or
 * unpaired surrogates, nesting within LIMITS.stripeEventDepthMax), and, for the event types that
 * reach workflows, the fields our summaries read (src/billing/stripe-summaries.ts) with the types
 * they assume. A body that is not is `unprocessable`: parked for operators, never half-stored, never
 * handed to a workflow as a summary it would choke on.
 */
import { z } from 'zod';
import type Stripe from 'stripe';
import type { FieldError } from '../shared/errors.js';
import { LIMITS } from '../shared/limits.js';
import { jsonDepthExceeds, unstorableFields } from '../shared/text-hygiene.js';
import { ROUTED_STRIPE_EVENT_TYPES } from '../workflows/stripe-event.js';

/** Stripe's Unix times: from its founding to 2100, so `new Date(s * 1000)` is always a date Postgres takes. */
const UNIX_SECONDS_MIN = 1_262_304_000;
const UNIX_SECONDS_MAX = 4_102_444_800;

const stripeId = z.string().min(1).max(LIMITS.stripeIdLengthMax);
const unixSeconds = z.number().int().min(UNIX_SECONDS_MIN).max(UNIX_SECONDS_MAX);
/** Minor units of a Stripe amount; they cross to workflows as decimal strings, so whole and exact. */
const amountMinor = z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
/** An expandable reference: an id, or the object carrying it. */
const reference = z.union([stripeId, z.looseObject({ id: stripeId })]).nullable().optional();
const metadata = z.record(z.string(), z.string()).nullable().optional();
const label = z.string().max(64);

const CheckoutSession = z.looseObject({
  id: stripeId,
  client_reference_id: stripeId.nullable().optional(),
  subscription: reference,
  customer: reference,
  metadata,
});

const SubscriptionObject = z.looseObject({
  id: stripeId,
  status: label,
  cancel_at_period_end: z.boolean(),
  metadata,
  current_period_start: unixSeconds.optional(),
  current_period_end: unixSeconds.optional(),
  items: z
    .looseObject({
      data: z.array(
        z.looseObject({
          id: stripeId,
          price: reference,
          quantity: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
          current_period_start: unixSeconds.optional(),
          current_period_end: unixSeconds.optional(),
        }),
      ),
    })
    .optional(),
});

const InvoiceObject = z.looseObject({
  id: stripeId,
  status: label.nullable(),
  billing_reason: label.nullable().optional(),
  currency: z.string().min(3).max(8),
  total: amountMinor,
  amount_due: amountMinor,
  amount_paid: amountMinor,
  attempt_count: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  period_start: unixSeconds,
  period_end: unixSeconds,
  subscription: reference,
  parent: z.looseObject({ subscription_details: z.looseObject({ subscription: reference, metadata }).nullable().optional() }).nullable().optional(),
});

/** The object each event type that reaches workflows must carry (by type prefix), and its schema. */
const ROUTED_OBJECTS: Array<{ typePrefix: string; object: string; schema: z.ZodType }> = [
  { typePrefix: 'checkout.session.', object: 'checkout.session', schema: CheckoutSession },
  { typePrefix: 'customer.subscription.', object: 'subscription', schema: SubscriptionObject },
  { typePrefix: 'invoice.', object: 'invoice', schema: InvoiceObject },
];
const ROUTED = new Set<string>(ROUTED_STRIPE_EVENT_TYPES);

const Envelope = z.looseObject({
  id: stripeId.regex(/^evt_[A-Za-z0-9_]+$/, 'must be a Stripe event id (evt_…)'),
  object: z.literal('event'),
  type: z.string().max(LIMITS.stripeEventTypeLengthMax).regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/, 'must be a Stripe event type (e.g. invoice.paid)'),
  created: unixSeconds,
  livemode: z.boolean(),
  api_version: z.string().max(64).nullable().optional(),
  data: z.looseObject({ object: z.record(z.string(), z.unknown()) }),
});

export type StripeEnvelope =
  | { ok: true; event: Stripe.Event }
  | {
      ok: false;
      problems: FieldError[];
      /** The event's id and type when they are usable as text, to help an operator find it in Stripe. */
      eventId: string | null;
      eventType: string | null;
    };

function issues(error: z.ZodError, prefix: string): FieldError[] {
  return error.issues.map((i) => ({ path: [prefix, ...i.path.map(String)].filter((p) => p !== '').join('.') || '(root)', message: i.message }));
}

function usableText(v: unknown, pattern: RegExp): string | null {
  return typeof v === 'string' && v.length <= LIMITS.stripeIdLengthMax && pattern.test(v) ? v : null;
}

function routedObjectProblems(type: string, object: Record<string, unknown>): FieldError[] {
  const routed = ROUTED.has(type) ? ROUTED_OBJECTS.find((r) => type.startsWith(r.typePrefix)) : undefined;
  if (!routed) return [];
  if (object.object !== routed.object) return [{ path: 'data.object.object', message: `must be "${routed.object}" for ${type}` }];
  const parsed = routed.schema.safeParse(object);
  return parsed.success ? [] : issues(parsed.error, 'data.object');
}

/** Reads a signed webhook body as a Stripe event, or says everything that is wrong with it. */
export function parseStripeEnvelope(raw: string): StripeEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, problems: [{ path: '(root)', message: 'is not valid JSON' }], eventId: null, eventType: null };
  }
  const fields = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const eventId = usableText(fields.id, /^evt_[A-Za-z0-9_]+$/);
  const eventType = usableText(fields.type, /^[a-z0-9_.]+$/);
  if (jsonDepthExceeds(value, LIMITS.stripeEventDepthMax)) {
    return { ok: false, problems: [{ path: '(root)', message: `nests deeper than ${LIMITS.stripeEventDepthMax} levels (LIMITS.stripeEventDepthMax)` }], eventId, eventType };
  }
  const problems = unstorableFields(value, '');
  const envelope = Envelope.safeParse(value);
  if (!envelope.success) problems.push(...issues(envelope.error, ''));
  else problems.push(...routedObjectProblems(envelope.data.type, envelope.data.data.object));
  if (problems.length > 0) return { ok: false, problems: problems.slice(0, LIMITS.stripeEventProblemsMax), eventId, eventType };
  return { ok: true, event: value as Stripe.Event };
}
