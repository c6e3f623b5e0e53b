/**
 * The one owner of `stripe_events`: each verified Stripe event stored once by its id, and where it
 * was routed. A redelivery finds the event stored and, once routed, changes nothing.
 */
import type Stripe from 'stripe';
import type { Queryable } from '../shared/db.js';

/** Stores the event unless known; `routedAt` is set once a delivery reached its workflow (or none needed it). */
export async function storeStripeEvent(sql: Queryable, event: Stripe.Event): Promise<{ inserted: boolean; routedAt: Date | null }> {
  const inserted = await sql`
    insert into stripe_events (id, type, api_version, livemode, created, payload)
    values (${event.id}, ${event.type}, ${event.api_version ?? null}, ${event.livemode}, ${new Date(event.created * 1000)}, ${sql.json(event as never)})
    on conflict (id) do nothing
    returning id`;
  const [stored] = await sql<{ routed_at: Date | null }[]>`select routed_at from stripe_events where id = ${event.id}`;
  return { inserted: inserted.length > 0, routedAt: stored?.routed_at ?? null };
}

/** The first routing stays. */
export async function markRouted(sql: Queryable, eventId: string, routedTo: string | null): Promise<void> {
  await sql`update stripe_events set routed_to = ${routedTo}, routed_at = now() where id = ${eventId} and routed_at is null`;
}

/** How many invoice.payment_failed events we received for a Stripe invoice (local Stripe tools number attempts by it). */
export async function paymentFailuresOf(sql: Queryable, stripeInvoiceId: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from stripe_events where type = 'invoice.payment_failed' and payload -> 'data' -> 'object' ->> 'id' = ${stripeInvoiceId}`;
  return row?.n ?? 0;
}
