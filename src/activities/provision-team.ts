/** Activities of provisionTeam: one Stripe call, and one Postgres read or write each. */
import { AppError } from '../shared/errors.js';
import type { ActivityDeps } from './deps.js';
import { activity } from './failures.js';

export function createProvisionTeamActivities({ sql, stripe }: ActivityDeps) {
  return {
    findStripeCustomer: activity(async ({ teamId }: { teamId: string }): Promise<string | null> => {
      const [row] = await sql<{ stripe_customer_id: string }[]>`
        select stripe_customer_id from billing_customers where team_id = ${teamId}`;
      return row?.stripe_customer_id ?? null;
    }),

    createStripeCustomer: activity(async (input: { teamId: string; idempotencyKey: string }): Promise<{ id: string }> => {
      const [team] = await sql<{ name: string; external_ref: string | null; currency: string }[]>`
        select name, external_ref, currency from teams where id = ${input.teamId}`;
      if (!team) throw new AppError('not_found', `Team ${input.teamId} was not found`);
      const customer = await stripe.customers.create(
        {
          name: team.name,
          metadata: { team_id: input.teamId, external_ref: team.external_ref ?? '' },
        },
        { idempotencyKey: input.idempotencyKey },
      );
      return { id: customer.id };
    }),

    recordStripeCustomer: activity(
      async (input: { teamId: string; stripeCustomerId: string; idempotencyKey: string }): Promise<string> => {
        await sql`
          insert into billing_customers (team_id, stripe_customer_id, idempotency_key)
          values (${input.teamId}, ${input.stripeCustomerId}, ${input.idempotencyKey})
          on conflict (team_id) do nothing`;
        const [row] = await sql<{ stripe_customer_id: string }[]>`
          select stripe_customer_id from billing_customers where team_id = ${input.teamId}`;
        return row!.stripe_customer_id;
      },
    ),
  };
}
