/**
 * Calendar arithmetic of billing periods, as Stripe does it: the next period ends on the same day of
 * the next month (or year), clamped to the last day of a shorter month (Jan 31 → Feb 28/29), at the
 * same time of day (UTC). Pure: used in workflows.
 */
import { iso, ms } from './clock.js';

export type Interval = 'month' | 'year';

function daysInMonthUtc(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

/** End of the period starting at `startIso` (ISO 8601, UTC). */
export function nextPeriodEnd(startIso: string, interval: Interval): string {
  const start = new Date(ms(startIso));
  const months = interval === 'month' ? 1 : 12;
  const y = start.getUTCFullYear();
  const m = start.getUTCMonth() + months;
  const year = y + Math.floor(m / 12);
  const month = m % 12;
  const day = Math.min(start.getUTCDate(), daysInMonthUtc(year, month));
  return iso(
    Date.UTC(year, month, day, start.getUTCHours(), start.getUTCMinutes(), start.getUTCSeconds(), start.getUTCMilliseconds()),
  );
}
