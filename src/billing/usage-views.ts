/** Groupings of usage atoms for the read API and the margin report, and their query ranges. */
import { validationError } from '../shared/errors.js';
import { LIMITS } from '../shared/limits.js';
import { Dec } from '../shared/money.js';
import { METERS, isMeterCode } from '../pricing/meters.js';
import { priceString, type UsageAtom } from './priced-usage.js';
import type { UsageRow } from '../../sdk/src/types.js';

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` (UTC midnight) or an ISO timestamp → Date. */
export function parseInstant(value: string): Date {
  return new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
}

/** Checks a [from, to) range against LIMITS.usageReportDaysMax. */
export function checkRange(from: Date, to: Date): void {
  if (!(to.getTime() > from.getTime())) throw validationError([{ path: 'query.to', message: 'must be after from' }]);
  if (to.getTime() - from.getTime() > LIMITS.usageReportDaysMax * DAY_MS) {
    throw validationError([{ path: 'query.to', message: `the range may span at most ${LIMITS.usageReportDaysMax} days (LIMITS.usageReportDaysMax)` }]);
  }
}

/** A row of the usage read API: the SDK's type is the one definition of the wire shape (test/types/sdk-contract.ts holds the api's schema to it). */
export type { UsageRow } from '../../sdk/src/types.js';

/** The read API's rows: per period (and day), meter and dimension set. */
export function usageRows(atoms: readonly UsageAtom[], byDay: boolean): UsageRow[] {
  const rows = new Map<string, UsageRow & { q: Dec; minor: bigint }>();
  for (const a of atoms) {
    const k = [a.periodId, byDay ? a.day : '', a.meter, JSON.stringify(a.dimensions)].join('\u0000');
    let row = rows.get(k);
    if (!row) {
      row = {
        periodId: a.periodId,
        periodStart: a.periodStart.toISOString(),
        periodEnd: a.periodEnd.toISOString(),
        periodStatus: a.periodStatus,
        ...(byDay ? { day: a.day } : {}),
        meter: a.meter,
        unit: isMeterCode(a.meter) ? METERS[a.meter].unit : 'unit',
        dimensions: a.dimensions,
        quantity: '0',
        events: 0,
        price: '0',
        currency: a.currency,
        ...(a.note ? { note: a.note } : {}),
        q: new Dec(0),
        minor: 0n,
      };
      rows.set(k, row);
    }
    row.q = row.q.plus(a.quantity);
    row.minor += a.priceMinor;
    row.events += a.events;
  }
  return [...rows.values()].map(({ q, minor, ...row }) => ({ ...row, quantity: q.toFixed(), price: priceString(minor, row.currency) }));
}

export const MARGIN_GROUP_KEYS = ['team', 'app', 'meter', 'model', 'day'] as const;
export type MarginGroupKey = (typeof MARGIN_GROUP_KEYS)[number];

export interface MarginRow {
  team?: string | null;
  app?: string | null;
  meter?: string | null;
  /** null: usage without a model (storage, bandwidth). */
  model?: string | null;
  day?: string | null;
  /** Only when grouped by meter (quantities of different meters do not add up). */
  quantity?: string;
  events: number;
  /** What we charge (allocated from the plan's rating), USD unless `currency` says otherwise. */
  price: string;
  currency: string;
  /** What it costs us (exact COGS, USD). */
  cost: string;
  /** price − cost; null when the price is not in USD. */
  margin: string | null;
  /** Why part of the row has price 0, or is not comparable. */
  notes: string[];
}

/** The margin report's rows: atoms grouped by `keys`, price and cost summed exactly. */
export function marginRows(atoms: readonly UsageAtom[], keys: readonly MarginGroupKey[]): { rows: MarginRow[]; totals: { price: string; cost: string; margin: string | null } } {
  const pick = (a: UsageAtom): Partial<Record<MarginGroupKey, string | null>> => ({
    team: a.teamId,
    app: a.appId,
    meter: a.meter,
    model: a.dimensions.model ?? null,
    day: a.day,
  });
  const groups = new Map<string, { keys: Partial<Record<MarginGroupKey, string | null>>; q: Dec; events: number; minor: Map<string, bigint>; cost: Dec; notes: Set<string> }>();
  for (const a of atoms) {
    const all = pick(a);
    const ks = Object.fromEntries(keys.map((k) => [k, all[k] ?? null]));
    const id = JSON.stringify(ks);
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { keys: ks, q: new Dec(0), events: 0, minor: new Map(), cost: new Dec(0), notes: new Set() }));
    g.q = g.q.plus(a.quantity);
    g.events += a.events;
    g.cost = g.cost.plus(a.cost);
    const currency = a.currency ?? 'USD';
    g.minor.set(currency, (g.minor.get(currency) ?? 0n) + a.priceMinor);
    if (a.note === 'no_plan') g.notes.add(`no plan assigned to team ${a.teamId}: price 0`);
    if (a.note === 'no_price') g.notes.add(`the plan of team ${a.teamId} has no price for ${a.meter}: price 0`);
  }
  let totalMinor = 0n;
  let totalCost = new Dec(0);
  let comparable = true;
  const rows = [...groups.values()].map((g): MarginRow => {
    const currencies = [...g.minor.keys()];
    const currency = currencies.length === 1 ? currencies[0]! : 'mixed';
    if (currencies.length > 1) g.notes.add(`prices in several currencies (${currencies.join(', ')}) are not added up`);
    const minor = currency === 'mixed' ? 0n : g.minor.get(currency)!;
    const price = priceString(minor, currency === 'mixed' ? null : currency);
    const usd = currency === 'USD';
    if (!usd) comparable = false;
    else totalMinor += minor;
    totalCost = totalCost.plus(g.cost);
    if (!usd && currency !== 'mixed') g.notes.add(`price in ${currency}: no margin against USD costs`);
    return {
      ...g.keys,
      ...(keys.includes('meter') ? { quantity: g.q.toFixed() } : {}),
      events: g.events,
      price,
      currency,
      cost: g.cost.toFixed(),
      margin: usd ? new Dec(price).minus(g.cost).toFixed() : null,
      notes: [...g.notes].sort(),
    };
  });
  rows.sort((a, b) => JSON.stringify(MARGIN_GROUP_KEYS.map((k) => a[k])).localeCompare(JSON.stringify(MARGIN_GROUP_KEYS.map((k) => b[k]))));
  const totalPrice = priceString(totalMinor, 'USD');
  return { rows, totals: { price: totalPrice, cost: totalCost.toFixed(), margin: comparable ? new Dec(totalPrice).minus(totalCost).toFixed() : null } };
}
