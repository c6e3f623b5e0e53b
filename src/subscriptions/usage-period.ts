/** The usage periods of a subscription's periods: the first opened with its activation, each found by its end. */
import type { Queryable, TxSql } from '../shared/db.js';
import { AppError, notFound } from '../shared/errors.js';
import { openBillingPeriod } from '../usage/billing-periods.js';

/**
 * Opens [periodStart, periodEnd) for the team's usage. Usage the team already reported into its
 * calendar period with timestamps at or just past periodStart (clock skew) stays where it was counted,
 * before the subscription: the usage period then starts on the second after it. Its end never moves.
 * `cadence`: the length of the periods that follow (see openBillingPeriod).
 */
export async function openSubscriptionUsagePeriod(tx: TxSql, teamId: string, periodStart: string, periodEnd: string, actor: string, cadence: string | null = null): Promise<string> {
  const end = new Date(periodEnd);
  try {
    return (await openBillingPeriod(tx, { teamId, periodStart: new Date(periodStart), periodEnd: end, cadence }, actor)).periodStart;
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== 'conflict') throw err;
    const [last] = await tx<{ at: Date | null }[]>`
      select max(e.event_at) as at from usage_events e join billing_periods p on p.id = e.period_id
      where e.team_id = ${teamId} and p.source = 'calendar' and p.status = 'open' and p.period_end > ${periodStart}`;
    if (!last?.at) throw err;
    const start = new Date(Math.floor(last.at.getTime() / 1000) * 1000 + 1000);
    if (start >= end) throw err;
    return (await openBillingPeriod(tx, { teamId, periodStart: start, periodEnd: end, cadence }, actor)).periodStart;
  }
}

/**
 * The usage period of a subscription period, found by its end: a subscription's first usage period
 * may start a moment after the Stripe period (see openSubscriptionUsagePeriod), its end never moves.
 */
export async function subscriptionUsagePeriod(sql: Queryable, teamId: string, periodEnd: string): Promise<{ id: bigint; period_start: Date }> {
  const [period] = await sql<{ id: bigint; period_start: Date }[]>`
    select id, period_start from billing_periods where team_id = ${teamId} and period_end = ${periodEnd} and source = 'explicit'`;
  if (!period) throw notFound(`Usage period of team ${teamId} ending ${periodEnd}`);
  return period;
}
