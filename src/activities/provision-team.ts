/** Postgres activities of provisionTeam (its Stripe call, createStripeCustomer, is in stripe-billing.ts). */
import { recordStripeCustomer, stripeCustomerOf } from '../platform/billing-customer-store.js';
import type { DbActivityDeps } from './deps.js';
import { activity } from './failures.js';

export function createProvisionTeamActivities({ sql }: DbActivityDeps) {
  return {
    findStripeCustomer: activity(async ({ teamId }: { teamId: string }): Promise<string | null> => stripeCustomerOf(sql, teamId)),

    /** The first customer stored for the team stays; returns it. */
    recordStripeCustomer: activity(async (input: { teamId: string; stripeCustomerId: string; idempotencyKey: string }): Promise<string> => recordStripeCustomer(sql, input)),
  };
}
