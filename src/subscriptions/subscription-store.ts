/**
 * The one owner of `subscriptions` and `subscription_changes`: every statement on them is here.
 * Subscriptions are created at checkout (idempotent by the team's request key), then changed only by
 * the subscription workflow's activities (through src/subscriptions/lifecycle.ts). Every change is
 * also appended to subscription_changes, which period close reads to prorate.
 */
import { randomBytes } from 'node:crypto';
import type { Queryable, Sql } from '../shared/db.js';
import { inTransaction } from '../shared/db.js';
import { requestHash } from '../shared/crypto.js';
import { AppError, idempotencyConflict, notFound } from '../shared/errors.js';
import type { CollectionMethod, SubscriptionStatus } from '../workflows/subscription-messages.js';

export interface SubscriptionRow {
  id: string;
  team_id: string;
  plan_version_id: string;
  seats: number;
  add_ons: string[];
  status: SubscriptionStatus;
  cancel_at_period_end: boolean;
  current_period_start: Date | null;
  current_period_end: Date | null;
  stripe_checkout_session_id: string | null;
  stripe_checkout_url: string | null;
  stripe_subscription_id: string | null;
  stripe_items: Record<string, string>;
  /** checkout: started by an app's Checkout; operator: put on the plan by an operator, without Checkout. */
  origin: 'checkout' | 'operator';
  collection_method: CollectionMethod;
  days_until_due: number | null;
  starts_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface NewSubscription {
  teamId: string;
  planVersionId: string;
  seats: number;
  addOns: string[];
  idempotencyKey: string;
  /** An operator's start without Checkout; absent: a Checkout. */
  operator?: { collection: CollectionMethod; daysUntilDue: number | null; startsAt: string | null };
}

/** A subscription as the api shows it and as its workflow starts from it: names and instants of the wire. */
export function subscriptionFacts(row: SubscriptionRow) {
  return {
    status: row.status,
    planVersionId: row.plan_version_id,
    seats: row.seats,
    addOns: row.add_ons,
    currentPeriodStart: row.current_period_start?.toISOString() ?? null,
    currentPeriodEnd: row.current_period_end?.toISOString() ?? null,
    cancelAtPeriodEnd: row.cancel_at_period_end,
    stripeSubscriptionId: row.stripe_subscription_id,
  };
}

export function newSubscriptionId(): string {
  return `sub_${randomBytes(12).toString('base64url').replace(/[^A-Za-z0-9]/g, 'x')}`;
}

/**
 * The team's incomplete subscription for this checkout request, created if new. A team with a live
 * subscription gets a `conflict`: it changes plan instead of subscribing twice.
 */
export async function createSubscription(sql: Sql, input: NewSubscription): Promise<{ row: SubscriptionRow; created: boolean }> {
  const op = input.operator;
  // A Checkout's request hash is as it always was, so replays of requests from before operator starts still match.
  const hash = requestHash({ planVersionId: input.planVersionId, seats: input.seats, addOns: [...input.addOns].sort(), ...(op ? { operator: op } : {}) });
  return inTransaction(sql, async (tx) => {
    // One checkout at a time per team: the advisory lock orders concurrent requests.
    await tx`select pg_advisory_xact_lock(hashtextextended(${`subscriptions:${input.teamId}`}, 0))`;
    const [existing] = await tx<(SubscriptionRow & { request_hash: Buffer })[]>`
      select * from subscriptions where team_id = ${input.teamId} and idempotency_key = ${input.idempotencyKey}`;
    if (existing) {
      if (!existing.request_hash.equals(hash)) throw idempotencyConflict(input.idempotencyKey);
      return { row: existing, created: false };
    }
    const [live] = await tx`select id from subscriptions where team_id = ${input.teamId} and status in ('active', 'past_due', 'restricted')`;
    if (live) throw new AppError('conflict', `Team ${input.teamId} already has subscription ${live.id}; change its plan instead`);
    const [row] = await tx<SubscriptionRow[]>`
      insert into subscriptions (id, team_id, plan_version_id, seats, add_ons, status, idempotency_key, request_hash,
                                 origin, collection_method, days_until_due, starts_at)
      values (${newSubscriptionId()}, ${input.teamId}, ${input.planVersionId}, ${input.seats}, ${tx.json([...input.addOns].sort())},
              'incomplete', ${input.idempotencyKey}, ${hash}, ${op ? 'operator' : 'checkout'}, ${op?.collection ?? 'charge_automatically'},
              ${op?.daysUntilDue ?? null}, ${op?.startsAt ?? null})
      returning *`;
    return { row: row!, created: true };
  });
}

export async function getSubscription(sql: Queryable, subscriptionId: string): Promise<SubscriptionRow> {
  const [row] = await sql<SubscriptionRow[]>`select * from subscriptions where id = ${subscriptionId}`;
  if (!row) throw notFound(`Subscription ${subscriptionId}`);
  return row;
}

/** The team's live subscription, else its most recent one. */
export async function currentSubscription(sql: Queryable, teamId: string): Promise<SubscriptionRow | null> {
  const [row] = await sql<SubscriptionRow[]>`
    select * from subscriptions where team_id = ${teamId}
    order by (status in ('active', 'past_due', 'restricted')) desc, created_at desc limit 1`;
  return row ?? null;
}

/** Ids of every subscription of these teams (any status: a canceled one may still have a close in dunning). */
export async function subscriptionsOfTeams(sql: Queryable, teamIds: readonly string[]): Promise<string[]> {
  if (teamIds.length === 0) return [];
  return (await sql<{ id: string }[]>`select id from subscriptions where team_id = any(${[...teamIds]}) order by created_at`).map((r) => r.id);
}

export async function subscriptionByStripeId(sql: Queryable, stripeSubscriptionId: string): Promise<SubscriptionRow | null> {
  const [row] = await sql<SubscriptionRow[]>`select * from subscriptions where stripe_subscription_id = ${stripeSubscriptionId}`;
  return row ?? null;
}

/** The subscription of a Checkout session, else the team's newest one still waiting for its Checkout (local Stripe tools). */
export async function subscriptionAwaitingCheckout(sql: Queryable, ref: { checkoutSessionId: string } | { teamId: string }): Promise<SubscriptionRow | null> {
  const [row] =
    'checkoutSessionId' in ref
      ? await sql<SubscriptionRow[]>`select * from subscriptions where stripe_checkout_session_id = ${ref.checkoutSessionId}`
      : await sql<SubscriptionRow[]>`
          select * from subscriptions where team_id = ${ref.teamId} and status = 'incomplete' and stripe_checkout_session_id is not null
          order by created_at desc limit 1`;
  return row ?? null;
}

/** The first Checkout session stays: a retried activity never replaces it. */
export async function recordCheckoutSession(sql: Queryable, input: { subscriptionId: string; checkoutSessionId: string; checkoutUrl: string }): Promise<void> {
  await sql`
    update subscriptions set stripe_checkout_session_id = ${input.checkoutSessionId}, stripe_checkout_url = ${input.checkoutUrl}, updated_at = now()
    where id = ${input.subscriptionId} and stripe_checkout_session_id is null`;
}

/** Live at Stripe: its subscription, its items by component, and the first period. */
export async function markActive(
  tx: Queryable,
  input: { subscriptionId: string; stripeSubscriptionId: string; items: Record<string, string>; periodStart: string; periodEnd: string },
): Promise<void> {
  await tx`
    update subscriptions set status = 'active', stripe_subscription_id = ${input.stripeSubscriptionId}, stripe_items = ${tx.json(input.items)},
           current_period_start = ${input.periodStart}, current_period_end = ${input.periodEnd}, updated_at = now()
    where id = ${input.subscriptionId}`;
}

/** The parts of a subscription a change request sets (absent: unchanged). */
export interface ShapeUpdate {
  seats?: number | undefined;
  addOns?: string[] | undefined;
  cancelAtPeriodEnd?: boolean | undefined;
  planVersionId?: string | undefined;
}

export async function updateShape(tx: Queryable, subscriptionId: string, update: ShapeUpdate): Promise<void> {
  if (update.seats !== undefined) await tx`update subscriptions set seats = ${update.seats}, updated_at = now() where id = ${subscriptionId}`;
  if (update.addOns !== undefined) await tx`update subscriptions set add_ons = ${tx.json(update.addOns)}, updated_at = now() where id = ${subscriptionId}`;
  if (update.cancelAtPeriodEnd !== undefined) {
    await tx`update subscriptions set cancel_at_period_end = ${update.cancelAtPeriodEnd}, updated_at = now() where id = ${subscriptionId}`;
  }
  if (update.planVersionId !== undefined) await tx`update subscriptions set plan_version_id = ${update.planVersionId}, updated_at = now() where id = ${subscriptionId}`;
}

/** The current period's bounds (a roll sets both, Stripe moving the end sets only the end). */
export async function setCurrentPeriod(tx: Queryable, subscriptionId: string, period: { start?: string; end: string }): Promise<void> {
  if (period.start === undefined) {
    await tx`update subscriptions set current_period_end = ${period.end}, updated_at = now() where id = ${subscriptionId}`;
    return;
  }
  await tx`
    update subscriptions set current_period_start = ${period.start}, current_period_end = ${period.end}, updated_at = now()
    where id = ${subscriptionId}`;
}

export async function markCanceled(tx: Queryable, subscriptionId: string): Promise<void> {
  await tx`update subscriptions set status = 'canceled', updated_at = now() where id = ${subscriptionId}`;
}

/** Dunning moves a live subscription between active, past due and restricted; an ended one stays ended. */
export async function setDunningStatus(tx: Queryable, subscriptionId: string, status: SubscriptionStatus): Promise<void> {
  await tx`
    update subscriptions set status = ${status}, updated_at = now()
    where id = ${subscriptionId} and status in ('active', 'past_due', 'restricted')`;
}

export type ChangeKind = 'activated' | 'seats' | 'add_ons' | 'plan' | 'cancel' | 'status' | 'period';

/** Appends a change once per (subscription, request); returns false when it was recorded before. */
export async function appendChange(
  tx: Queryable,
  change: { subscriptionId: string; requestId: string; kind: ChangeKind; effectiveAt: string; detail: Record<string, unknown> },
): Promise<boolean> {
  const rows = await tx`
    insert into subscription_changes (subscription_id, kind, effective_at, detail, request_id)
    values (${change.subscriptionId}, ${change.kind}, ${change.effectiveAt}, ${tx.json(change.detail as never)}, ${change.requestId})
    on conflict (subscription_id, request_id) do nothing
    returning id`;
  return rows.length > 0;
}

export interface ChangeRow {
  kind: ChangeKind;
  effective_at: Date;
  detail: Record<string, unknown>;
}

/** Seat, add-on and plan changes effective in [from, to), oldest first. */
export async function shapeChanges(sql: Queryable, subscriptionId: string, from: string, to: string): Promise<ChangeRow[]> {
  return sql<ChangeRow[]>`
    select kind, effective_at, detail from subscription_changes
    where subscription_id = ${subscriptionId} and kind in ('seats', 'add_ons', 'plan')
      and effective_at >= ${from} and effective_at < ${to}
    order by effective_at, id`;
}

/**
 * The seat, add-on or plan change recorded for `requestId`, followed by every later one (so the shape
 * before and after it can be walked back from the subscription as it is); empty while not recorded.
 */
export async function changeWithLaterOnes(sql: Queryable, subscriptionId: string, requestId: string): Promise<ChangeRow[]> {
  return sql<ChangeRow[]>`
    with mine as (select id, effective_at from subscription_changes where subscription_id = ${subscriptionId} and request_id = ${requestId}
                    and kind in ('seats', 'add_ons', 'plan'))
    select c.kind, c.effective_at, c.detail from subscription_changes c, mine
    where c.subscription_id = ${subscriptionId} and c.kind in ('seats', 'add_ons', 'plan') and (c.effective_at, c.id) >= (mine.effective_at, mine.id)
    order by c.effective_at, c.id`;
}

/** Whether the subscription rolled into a period starting at `periodEnd` (it renewed rather than ended there). */
export async function rolledPast(sql: Queryable, subscriptionId: string, periodEnd: string): Promise<boolean> {
  const [row] = await sql`
    select 1 from subscription_changes
    where subscription_id = ${subscriptionId} and kind = 'period' and effective_at = ${periodEnd} and detail ? 'periodStart'`;
  return row !== undefined;
}
