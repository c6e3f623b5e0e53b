/** Connects a team to billing: one Stripe customer per team, created once, its id stored. */
import { dbActivities, stripeActivities } from './activity-proxies.js';

const db = dbActivities();
const stripe = stripeActivities();

export interface ProvisionTeamInput {
  teamId: string;
}

export interface ProvisionTeamResult {
  stripeCustomerId: string;
}

export async function provisionTeam(input: ProvisionTeamInput): Promise<ProvisionTeamResult> {
  const existing = await db.findStripeCustomer({ teamId: input.teamId });
  if (existing) return { stripeCustomerId: existing };
  // Derived from the team, never from the activity id: every retry, and a rerun of a failed
  // provisioning, sends Stripe the same key, so Stripe returns the same customer.
  const idempotencyKey = `team:${input.teamId}:stripe-customer`;
  const created = await stripe.createStripeCustomer({ teamId: input.teamId, idempotencyKey });
  // First writer wins: if a retry raced us, the stored id is the one returned.
  const stored = await db.recordStripeCustomer({ teamId: input.teamId, stripeCustomerId: created.id, idempotencyKey });
  return { stripeCustomerId: stored };
}
