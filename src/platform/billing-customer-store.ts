/**
 * The one owner of `billing_customers`: each team's Stripe customer, stored once by provisionTeam
 * (the first id recorded stays, so a retried provisioning can never give a team two customers).
 */
import type { Queryable } from '../shared/db.js';

export async function stripeCustomerOf(sql: Queryable, teamId: string): Promise<string | null> {
  const [row] = await sql<{ stripe_customer_id: string }[]>`select stripe_customer_id from billing_customers where team_id = ${teamId}`;
  return row?.stripe_customer_id ?? null;
}

/** Stores the team's customer unless it has one; returns the one stored. */
export async function recordStripeCustomer(sql: Queryable, input: { teamId: string; stripeCustomerId: string; idempotencyKey: string }): Promise<string> {
  await sql`
    insert into billing_customers (team_id, stripe_customer_id, idempotency_key)
    values (${input.teamId}, ${input.stripeCustomerId}, ${input.idempotencyKey})
    on conflict (team_id) do nothing`;
  const stored = await stripeCustomerOf(sql, input.teamId);
  if (stored === null) throw new Error(`billing_customers has no row for team ${input.teamId} right after its insert`);
  return stored;
}
