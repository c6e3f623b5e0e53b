/**
 * The one owner of `stripe_prices`: the Stripe price created for each fixed component of a plan
 * version. The first price recorded for a component stays; every later checkout uses it.
 */
import type { Queryable } from '../shared/db.js';

/** Stripe price ids of a plan version, by component. */
export async function stripePricesOf(sql: Queryable, planVersionId: string): Promise<Map<string, string>> {
  const rows = await sql<{ component: string; stripe_price_id: string }[]>`
    select component, stripe_price_id from stripe_prices where plan_version_id = ${planVersionId}`;
  return new Map(rows.map((r) => [r.component, r.stripe_price_id]));
}

/** Stripe price ids of several plan versions, keyed `planVersionId|component`. */
export async function stripePricesOfPlans(sql: Queryable, planVersionIds: readonly string[]): Promise<Map<string, string>> {
  const rows = await sql<{ plan_version_id: string; component: string; stripe_price_id: string }[]>`
    select plan_version_id, component, stripe_price_id from stripe_prices where plan_version_id = any(${[...planVersionIds]})`;
  return new Map(rows.map((r) => [`${r.plan_version_id}|${r.component}`, r.stripe_price_id]));
}

/** Records created prices unless a component has one already (first writer wins); returns what is stored. */
export async function recordStripePrices(
  sql: Queryable,
  planVersionId: string,
  prices: Record<string, { priceId: string; productId: string }>,
): Promise<Map<string, string>> {
  const entries = Object.entries(prices);
  if (entries.length > 0) {
    await sql`insert into stripe_prices ${sql(
      entries.map(([component, p]) => ({ plan_version_id: planVersionId, component, stripe_price_id: p.priceId, stripe_product_id: p.productId })),
    )} on conflict (plan_version_id, component) do nothing`;
  }
  return stripePricesOf(sql, planVersionId);
}
