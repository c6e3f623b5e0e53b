/**
 * The Stripe price of each fixed component of a plan version (base fee, seats, add-ons), as we create
 * it at Stripe: amounts in cents as exact decimals, seats graduated with the included ones free.
 * Pure: the activity sends it, and the local Stripe tools (src/dev/) read prices back from it.
 */
import Stripe from 'stripe';
import type { PlanVersion } from '../catalog/plan-versions.js';
import { AppError } from '../shared/errors.js';
import { Dec } from '../shared/money.js';
import type { ComponentKey } from '../subscriptions/components.js';

/** Stripe takes decimal amounts in cents, up to 12 decimals, as its own exact Decimal type. */
const centsDecimal = (major: string | Dec) => Stripe.Decimal.from(new Dec(major).times(100).toDecimalPlaces(12).toFixed());

export function stripePriceParams(plan: PlanVersion, component: ComponentKey): Stripe.PriceCreateParams {
  const currency = plan.currency.toLowerCase();
  const recurring = { interval: plan.interval } as const;
  const metadata = { plan_version_id: plan.id, component };
  if (component === 'base') {
    return { currency, recurring, unit_amount_decimal: centsDecimal(plan.baseFee), product_data: { name: `${plan.planCode} (${plan.id})` }, metadata };
  }
  if (component === 'seat') {
    const seats = plan.seats!;
    const included = Number(seats.included);
    // Graduated: the included seats are free, so the item's quantity is simply all seats.
    return {
      currency,
      recurring,
      billing_scheme: 'tiered',
      tiers_mode: 'graduated',
      tiers: [
        ...(included > 0 ? [{ up_to: included, unit_amount_decimal: Stripe.Decimal.from('0') }] : []),
        { up_to: 'inf' as const, unit_amount_decimal: centsDecimal(seats.unitPrice) },
      ],
      product_data: { name: `${plan.planCode} seat (${plan.id})` },
      metadata,
    };
  }
  const code = component.slice('add_on:'.length);
  const addOn = plan.addOns[code];
  if (!addOn) throw new AppError('not_found', `Plan version ${plan.id} has no add-on ${code}`);
  return { currency, recurring, unit_amount_decimal: centsDecimal(addOn.price), product_data: { name: `${addOn.name} (${plan.id})` }, metadata };
}
