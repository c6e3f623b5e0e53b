/** What activities get from the worker process. Tests build the same object against real services. */
import type { Sql } from '../shared/db.js';
import type { Stripe } from '../shared/stripe.js';

/** Postgres activities: one transaction each. */
export interface DbActivityDeps {
  sql: Sql;
}

/** Stripe activities: one Stripe call each (reading what the request needs from Postgres first). */
export interface StripeActivityDeps {
  sql: Sql;
  stripe: Stripe;
}

export type ActivityDeps = DbActivityDeps & StripeActivityDeps;
