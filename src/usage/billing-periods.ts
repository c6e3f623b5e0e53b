/**
 * Billing periods: the windows usage is counted in, per team. Ingest creates a UTC calendar month on
 * demand when no period covers an event; the subscription and contract processes open their own
 * (explicit) periods and close them at invoicing. Periods of a team never overlap (an exclusion
 * constraint says so).
 *
 * Closing and re-shaping a period take the team's bucket lock exclusively (ingest holds it shared),
 * so a batch never counts into a period while it closes: usage is in the invoice or it is late.
 *
 * For the invoice of a period:
 *   counters:     periodCounters(sql, periodId)
 *   late usage:   adjustmentsForInvoice(sql, periodId), i.e.
 *                 select * from usage_adjustments where invoice_period_id = $periodId
 *                 (corrections of earlier, closed periods, each with its events' ids, assigned to
 *                 this period by closeUsagePeriod).
 */
import { inTransaction, withinTransaction, type Queryable, type Sql, type TxSql } from '../shared/db.js';
import { AppError, notFound, validationError } from '../shared/errors.js';
import { postCostRows, type CostRow } from './cogs-ledger.js';

export type PeriodStatus = 'open' | 'closed';

export interface BillingPeriod {
  periodId: string;
  teamId: string;
  periodStart: string;
  periodEnd: string;
  status: PeriodStatus;
  source: 'calendar' | 'explicit';
  closedAt: string | null;
  /** The length of the period after this one ('1 month', '8000 milliseconds'), if it repeats. */
  cadence: string | null;
}

export interface UsageAdjustment {
  adjustmentId: string;
  teamId: string;
  /** The closed period the late usage belongs to. */
  periodId: string;
  meter: string;
  dimensions: Record<string, string>;
  /** Change of the period's quantity (decimal string). */
  quantityDelta: string;
  /** Change of the period's exact COGS in USD (decimal string). */
  costDelta: string;
  /** The usage events (our ids) that caused it. */
  eventIds: string[];
  createdAt: string;
  /** The period whose invoice carries it; null until that period closes. */
  invoicePeriodId: string | null;
}

export interface PeriodCounter {
  meter: string;
  dimensions: Record<string, string>;
  aggregation: string;
  quantity: string;
  events: string;
  cost: string;
}

interface PeriodRow {
  id: bigint;
  team_id: string;
  period_start: Date;
  period_end: Date;
  status: PeriodStatus;
  source: 'calendar' | 'explicit';
  closed_at: Date | null;
  cadence: string | null;
}

const toPeriod = (r: PeriodRow): BillingPeriod => ({
  periodId: r.id.toString(),
  teamId: r.team_id,
  periodStart: r.period_start.toISOString(),
  periodEnd: r.period_end.toISOString(),
  status: r.status,
  source: r.source,
  closedAt: r.closed_at?.toISOString() ?? null,
  cadence: r.cadence,
});

/**
 * Creates the on-demand periods a batch needs (UTC calendar months, clipped to the team's other
 * periods, gauges carried over) in a transaction of its own, and posts the carried gauges' COGS.
 * Ingest calls it when usage_ingest reports a missing period (UG001), then counts the batch again.
 */
export async function ensurePeriods(sql: Sql, needs: readonly { teamId: string; at: Date }[]): Promise<void> {
  await inTransaction(sql, async (tx) => {
    const rows = await tx<CostRow[]>`
      select * from usage_ensure_periods(${needs.map((n) => n.teamId)}::text[], ${needs.map((n) => n.at.toISOString())}::timestamptz[])`;
    await postCostRows(tx, rows, 'usage-ingest', new Date());
  });
}

/** How long a period change tries for its team's lock before it queues for it (see lockTeamPeriods). */
const TEAM_LOCK_POLL_MAX_MS = 2_000;
const TEAM_LOCK_POLL_INTERVAL_MS = 10;

/**
 * Waits for in-flight batches of the team to commit and keeps new ones out until we commit.
 *
 * It polls with a try-lock first: an exclusive request queued behind the shared holders makes every
 * later shared request (every batch of the 1/256 of teams in that bucket) queue behind it too, so a
 * queued close stalled ingest for as long as the slowest batch ahead of it. Polling lets batches keep
 * flowing; after TEAM_LOCK_POLL_MAX_MS it queues, so a close is never starved by a steady stream.
 */
async function lockTeamPeriods(tx: TxSql, teamId: string): Promise<void> {
  const deadline = Date.now() + TEAM_LOCK_POLL_MAX_MS;
  while (Date.now() < deadline) {
    const [got] = await tx<{ ok: boolean }[]>`select pg_try_advisory_xact_lock(usage_team_lock_class(), hashtext(${teamId}) & 255) as ok`;
    if (got!.ok) return;
    await new Promise((resolve) => setTimeout(resolve, TEAM_LOCK_POLL_INTERVAL_MS));
  }
  await tx`select pg_advisory_xact_lock(usage_team_lock_class(), hashtext(${teamId}) & 255)`;
}

/**
 * Opens an explicit period [periodStart, periodEnd) for a team. Idempotent: the same bounds return
 * the existing period. A period with exactly these bounds that ingest created (in the shape of the
 * previous period's `cadence`: the roll is late and usage arrived first) is adopted as it is. An open
 * calendar period starting exactly at periodStart is adopted too: re-shaped to periodEnd, unless it
 * already holds later usage. An open on-demand (calendar) period that overlaps only by running past
 * periodStart is ended there, provided no usage was counted in it at or after periodStart; any other
 * overlap is a `conflict` naming the overlapping periods. The new period starts with the team's
 * gauges carried over, and the COGS of that (and of the trimmed period's gauges) is posted.
 * `cadence` (a Postgres interval) is the length of the period after this one: ingest shapes that
 * period by it if usage arrives before its process opens it.
 */
export async function openBillingPeriod(
  sql: Queryable,
  input: { teamId: string; periodStart: Date; periodEnd: Date; cadence?: string | null },
  actor = 'billing-periods',
): Promise<BillingPeriod> {
  const { teamId, periodStart, periodEnd } = input;
  const cadence = input.cadence ?? null;
  if (!(periodEnd.getTime() > periodStart.getTime())) throw validationError([{ path: 'periodEnd', message: 'must be after periodStart' }]);
  return withinTransaction(sql, async (tx) => {
    const [team] = await tx`select id from teams where id = ${teamId}`;
    if (!team) throw notFound(`Team ${teamId}`);
    await lockTeamPeriods(tx, teamId);
    const overlapping = await tx<PeriodRow[]>`
      select * from billing_periods
      where team_id = ${teamId} and tstzrange(period_start, period_end) && tstzrange(${periodStart}, ${periodEnd})
      order by period_start`;
    const same = overlapping.find((p) => p.period_start.getTime() === periodStart.getTime() && p.period_end.getTime() === periodEnd.getTime());
    if (same) {
      if (same.source === 'explicit') return toPeriod(same);
      // Ingest made it first, in our shape (the previous period's cadence): ours from now on.
      const [adopted] = await tx<PeriodRow[]>`
        update billing_periods set source = 'explicit', cadence = coalesce(${cadence}::interval, cadence) where id = ${same.id} returning *`;
      return toPeriod(adopted!);
    }

    const costs: CostRow[] = [];
    // Usage that arrived in the moment between the previous period's end and this open made ingest
    // create a calendar period starting exactly here: adopt it (re-shaped to our end) instead of failing.
    const adoptable = overlapping.length === 1 && overlapping[0]!.source === 'calendar' && overlapping[0]!.status === 'open' && overlapping[0]!.period_start.getTime() === periodStart.getTime();
    if (adoptable) {
      const p = overlapping[0]!;
      // The team narrows the search to its own events (usage_events_by_team); period_id has no index.
      const [beyond] = await tx`select 1 from usage_events where team_id = ${teamId} and event_at >= ${periodEnd} and period_id = ${p.id} limit 1`;
      if (!beyond) {
        costs.push(...(await tx<CostRow[]>`select * from usage_trim_period(${p.id}, ${periodEnd})`));
        const [adopted] = await tx<PeriodRow[]>`update billing_periods set source = 'explicit', cadence = ${cadence}::interval where id = ${p.id} returning *`;
        await postCostRows(tx, costs, actor, new Date());
        return toPeriod(adopted!);
      }
    }
    if (overlapping.length > 0) {
      const [p] = overlapping;
      const trimmable = overlapping.length === 1 && p!.source === 'calendar' && p!.status === 'open' && p!.period_start.getTime() < periodStart.getTime();
      const [late] = trimmable
        ? await tx`select 1 from usage_events where team_id = ${teamId} and event_at >= ${periodStart} and event_at < ${p!.period_end} limit 1`
        : [undefined];
      if (!trimmable || late) {
        throw new AppError('conflict', `The period overlaps ${overlapping.length} existing period(s) of team ${teamId}`, {
          details: {
            overlapping: overlapping.map(toPeriod),
            rule: 'Only an open calendar period starting earlier, with no usage at or after the new start, is ended to make room.',
          },
        });
      }
      costs.push(...(await tx<CostRow[]>`select * from usage_trim_period(${p!.id}, ${periodStart})`));
    }
    const [created] = await tx<PeriodRow[]>`
      insert into billing_periods (team_id, period_start, period_end, source, cadence)
      values (${teamId}, ${periodStart}, ${periodEnd}, 'explicit', ${cadence}::interval) returning *`;
    costs.push(...(await tx<CostRow[]>`select * from usage_seed_gauges(array[${created!.id}]::bigint[])`));
    await postCostRows(tx, costs, actor, new Date());
    return toPeriod(created!);
  });
}

/**
 * Moves the end of an open explicit period (Stripe moved the subscription's period end). Refused
 * (`conflict`) when the new end would leave usage already counted outside the period.
 */
export async function moveBillingPeriodEnd(sql: Queryable, input: { teamId: string; periodEnd: Date; newEnd: Date }, actor = 'billing-periods'): Promise<BillingPeriod> {
  return withinTransaction(sql, async (tx) => {
    await lockTeamPeriods(tx, input.teamId);
    const [p] = await tx<PeriodRow[]>`
      select * from billing_periods where team_id = ${input.teamId} and period_end = ${input.periodEnd} and source = 'explicit'`;
    if (!p) {
      const [moved] = await tx<PeriodRow[]>`
        select * from billing_periods where team_id = ${input.teamId} and period_end = ${input.newEnd} and source = 'explicit'`;
      if (moved) return toPeriod(moved); // moved before: a retry
      throw notFound(`Usage period of team ${input.teamId} ending ${input.periodEnd.toISOString()}`);
    }
    if (p.status !== 'open' || input.newEnd.getTime() <= p.period_start.getTime()) {
      throw new AppError('conflict', `Period ${p.id} cannot end at ${input.newEnd.toISOString()}`);
    }
    const [beyond] = await tx`select 1 from usage_events where team_id = ${input.teamId} and event_at >= ${input.newEnd} and period_id = ${p.id} limit 1`;
    const [next] = await tx`select 1 from billing_periods where team_id = ${input.teamId} and period_start > ${p.period_start} and period_start < ${input.newEnd} limit 1`;
    if (beyond || next) throw new AppError('conflict', `Period ${p.id} has usage or a neighbour before ${input.newEnd.toISOString()}`);
    const costs = await tx<CostRow[]>`select * from usage_trim_period(${p.id}, ${input.newEnd})`;
    await postCostRows(tx, costs, actor, new Date());
    const [moved] = await tx<PeriodRow[]>`select * from billing_periods where id = ${p.id}`;
    return toPeriod(moved!);
  });
}

/**
 * Closes a period: from now on its usage arrives late (the team's policy: adjustment or rejection).
 * Adjustments still pending for the team (late usage of periods closed before) are assigned to this
 * period's invoice and returned. Idempotent: closing a closed period changes nothing and returns
 * the adjustments assigned to it.
 */
export async function closeUsagePeriod(sql: Queryable, periodId: bigint | string): Promise<{ period: BillingPeriod; adjustments: UsageAdjustment[] }> {
  return withinTransaction(sql, async (tx) => {
    const [p] = await tx<PeriodRow[]>`select * from billing_periods where id = ${periodId}`;
    if (!p) throw notFound(`Billing period ${periodId}`);
    await lockTeamPeriods(tx, p.team_id);
    const [closed] = await tx<PeriodRow[]>`
      update billing_periods set status = 'closed', closed_at = now() where id = ${p.id} and status = 'open' returning *`;
    if (closed) {
      await tx`
        update usage_adjustments set invoice_period_id = ${p.id}
        where team_id = ${p.team_id} and invoice_period_id is null and period_id <> ${p.id}`;
    }
    return { period: toPeriod(closed ?? p), adjustments: await adjustmentsForInvoice(tx, p.id) };
  });
}

/** No period follows the team's explicit period ending at `periodEnd` (its subscription ended): usage after it goes into calendar months again. */
export async function endPeriodCadence(sql: Queryable, teamId: string, periodEnd: string): Promise<void> {
  await sql`update billing_periods set cadence = null where team_id = ${teamId} and period_end = ${periodEnd} and source = 'explicit'`;
}

/** The adjustments an invoice for `periodId` carries (assigned when it closed). */
export async function adjustmentsForInvoice(sql: Queryable, periodId: bigint | string): Promise<UsageAdjustment[]> {
  return toAdjustments(await sql`select * from usage_adjustments where invoice_period_id = ${periodId} order by id`);
}

/** Late usage of a team not yet on an invoice. */
export async function pendingAdjustments(sql: Queryable, teamId: string): Promise<UsageAdjustment[]> {
  return toAdjustments(await sql`select * from usage_adjustments where team_id = ${teamId} and invoice_period_id is null order by id`);
}

function toAdjustments(rows: readonly Record<string, unknown>[]): UsageAdjustment[] {
  return rows.map((r) => ({
    adjustmentId: String(r.id),
    teamId: r.team_id as string,
    periodId: String(r.period_id),
    meter: r.meter as string,
    dimensions: r.dimensions as Record<string, string>,
    quantityDelta: r.quantity_delta as string,
    costDelta: r.cost_delta as string,
    eventIds: (r.event_ids as bigint[]).map(String),
    createdAt: (r.created_at as Date).toISOString(),
    invoicePeriodId: r.invoice_period_id === null ? null : String(r.invoice_period_id),
  }));
}

/** The period of a team containing `at`, if any. */
export async function periodAt(sql: Queryable, teamId: string, at: Date): Promise<BillingPeriod | null> {
  const [p] = await sql<PeriodRow[]>`
    select * from billing_periods where team_id = ${teamId} and period_start <= ${at} and ${at} < period_end`;
  return p ? toPeriod(p) : null;
}

/** The counters of a period, what its invoice rates (additive counters summed over their stripes). */
export async function periodCounters(sql: Queryable, periodId: bigint | string): Promise<PeriodCounter[]> {
  const rows = await sql<{ meter: string; dimensions: Record<string, string>; aggregation: string; quantity: string; events: bigint; cost: string }[]>`
    select meter, dimensions, min(aggregation) as aggregation, sum(quantity) as quantity, sum(events)::bigint as events, sum(cost) as cost
    from usage_counters
    where team_id = (select team_id from billing_periods where id = ${periodId}) and period_id = ${periodId}
    group by meter, dimensions order by meter, dimensions::text`;
  return rows.map((r) => ({ ...r, events: r.events.toString() }));
}

/**
 * The counters of a closed period as they stood when it closed: its counters less the late usage
 * counted into it since (each late change to a closed period's counter is written together with its
 * usage_adjustments row, in the same ingest transaction, so the difference is exact). Counters that
 * only late usage created are left out. The invoice rates these, so it may be rated after the close
 * has committed, without holding the team's usage lock through rating.
 */
export async function periodCountersAtClose(sql: Queryable, periodId: bigint | string): Promise<PeriodCounter[]> {
  const rows = await sql<{ meter: string; dimensions: Record<string, string>; aggregation: string; quantity: string; events: bigint; cost: string }[]>`
    with counted as (
      select meter, dimensions, min(aggregation) as aggregation, sum(quantity) as quantity, sum(events)::bigint as events, sum(cost) as cost
      from usage_counters
      where team_id = (select team_id from billing_periods where id = ${periodId}) and period_id = ${periodId}
      group by meter, dimensions
    ), late as (
      select meter, dimensions, sum(quantity_delta) as quantity, sum(cardinality(event_ids))::bigint as events, sum(cost_delta) as cost
      from usage_adjustments where period_id = ${periodId}
      group by meter, dimensions
    )
    select c.meter, c.dimensions, c.aggregation,
           c.quantity - coalesce(l.quantity, 0) as quantity, c.events - coalesce(l.events, 0) as events, c.cost - coalesce(l.cost, 0) as cost
    from counted c left join late l on l.meter = c.meter and l.dimensions = c.dimensions
    where l.meter is null or (c.quantity, c.events, c.cost) is distinct from (l.quantity, l.events, l.cost)
    order by c.meter, c.dimensions::text`;
  return rows.map((r) => ({ ...r, events: r.events.toString() }));
}
