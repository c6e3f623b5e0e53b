/** What activities get from the worker process. Tests build the same object against real services. */
import type { Sql } from '../shared/db.js';
import type { Stripe } from '../shared/stripe.js';

export interface ActivityDeps {
  sql: Sql;
  stripe: Stripe;
}
