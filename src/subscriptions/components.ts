/**
 * The fixed components of a subscription, priced from its plan version: the base fee, the seats
 * beyond the included ones, and each add-on. Each component is one Stripe price and one item on the
 * Stripe subscription; prorations and renewal fees are computed per component, as Stripe does.
 */
import type { PlanVersion } from '../catalog/plan-versions.js';
import { rateAddOn, rateSeats } from '../pricing/plan-charges.js';
import { Dec } from '../shared/money.js';

export type ComponentKey = 'base' | 'seat' | `add_on:${string}`;

export interface FixedComponent {
  key: ComponentKey;
  description: string;
  /** What Stripe's subscription item carries as quantity. */
  stripeQuantity: number;
  /** Exact cost of a full period, in major units. */
  cost: Dec;
}

type PricedPlan = Pick<PlanVersion, 'id' | 'planCode' | 'baseFee' | 'seats' | 'addOns'>;

/** The components a subscription with `seats` and `addOns` pays for on `plan`, in a stable order. */
export function fixedComponents(plan: PricedPlan, seats: number, addOns: readonly string[]): FixedComponent[] {
  const out: FixedComponent[] = [];
  if (new Dec(plan.baseFee).gt(0)) {
    out.push({ key: 'base', description: `${plan.planCode} plan (${plan.id})`, stripeQuantity: 1, cost: new Dec(plan.baseFee) });
  }
  if (plan.seats) {
    // Stripe's seat price is graduated: the included seats are free, so its quantity is all seats.
    const rated = rateSeats(plan.seats, String(seats));
    out.push({ key: 'seat', description: `${seats} seats (${rated.included.toFixed()} included)`, stripeQuantity: seats, cost: rated.amount });
  }
  for (const code of [...addOns].sort()) {
    const addOn = plan.addOns[code];
    if (!addOn) throw new RangeError(`Plan version ${plan.id} has no add-on ${code}`);
    const rated = rateAddOn(code, addOn, new Dec(seats));
    out.push({
      key: `add_on:${code}`,
      description: `${addOn.name}${addOn.per === 'seat' ? ` × ${seats} seats` : ''}`,
      stripeQuantity: addOn.per === 'seat' ? seats : 1,
      cost: rated.amount,
    });
  }
  return out;
}

/** The component keys a plan version needs Stripe prices for, given the add-ons in use. */
export function componentKeys(plan: PricedPlan, addOns: readonly string[]): ComponentKey[] {
  const keys: ComponentKey[] = [];
  if (new Dec(plan.baseFee).gt(0)) keys.push('base');
  if (plan.seats) keys.push('seat');
  for (const code of [...addOns].sort()) keys.push(`add_on:${code}`);
  return keys;
}
