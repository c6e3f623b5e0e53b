/**
 * Messages of the subscription workflows, shared by the workflows, the api that sends them and the
 * tests. Every message carries an id the handler dedupes on: a retried HTTP request or a redelivered
 * Stripe webhook arrives as a second signal, and must change nothing.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { StripeEventSummary } from './stripe-event.js';

export type SubscriptionStatus = 'incomplete' | 'active' | 'past_due' | 'restricted' | 'canceled';

/** Every duration of a subscription is an input, so tests run a month in seconds. */
export interface SubscriptionTiming {
  /** Length of each period (whole seconds); null follows the Stripe subscription's periods (production). */
  periodMs: number | null;
  /** After a failed payment: waits before each retry, then the grace before entitlements are restricted. */
  dunningRetryDelaysMs: number[];
  dunningGraceMs: number;
  /** How long a period close waits for Stripe's renewal invoice before it flags itself in the UI. */
  stripeInvoiceWaitWarnMs: number;
}

export interface ChangeSeatsRequest {
  requestId: string;
  seats: number;
}

export interface ChangeAddOnsRequest {
  requestId: string;
  addOns: string[];
}

export interface CancelRequest {
  requestId: string;
  /** true: at the end of the current period (usage still invoiced then); false: now. */
  atPeriodEnd: boolean;
}

export interface CheckoutRequest {
  requestId: string;
  successUrl: string;
  cancelUrl: string;
}

export interface CheckoutResult {
  checkoutSessionId: string;
  checkoutUrl: string;
}

export type CollectionMethod = 'send_invoice' | 'charge_automatically';

/**
 * An operator puts the team on a plan without Checkout: Stripe's subscription is created by the
 * workflow itself, collected by invoice with net terms or charged to the saved payment method.
 */
export interface StartSubscriptionRequest {
  requestId: string;
  collection: CollectionMethod;
  /** Net terms of send_invoice; null for charge_automatically. */
  daysUntilDue: number | null;
  /** When to start (ISO 8601); null or a past instant: at once. */
  startsAt: string | null;
}

export interface StartSubscriptionResult {
  status: 'active' | 'scheduled';
  startsAt: string;
  stripeSubscriptionId: string | null;
  periodStart: string | null;
  periodEnd: string | null;
}

export interface ChangePlanRequest {
  requestId: string;
  planVersionId: string;
}

/** What a plan change costs now: credit for the unused time of the old plan, charge for the new one. */
export interface ProrationResult {
  requestId: string;
  fromPlanVersionId: string;
  toPlanVersionId: string;
  effectiveAt: string;
  /** Decimal strings in the currency's major unit, rounded to cents as Stripe invoices them. */
  creditAmount: string;
  chargeAmount: string;
  netAmount: string;
}

/** A child period close reports how it ended, so the subscription can restrict or restore. */
export interface PeriodOutcome {
  workflowId: string;
  periodStart: string;
  outcome: 'paid' | 'payment_failed' | 'restricted' | 'recovered' | 'closed_without_charge';
}

export interface SubscriptionView {
  subscriptionId: string;
  teamId: string;
  status: SubscriptionStatus;
  planVersionId: string;
  seats: number;
  addOns: string[];
  periodStart: string | null;
  periodEnd: string | null;
  cancelAtPeriodEnd: boolean;
  stripeSubscriptionId: string | null;
  openPeriodCloses: string[];
}

export const stripeEventSignal = defineSignal<[StripeEventSummary]>('stripeEvent');
export const changeSeatsSignal = defineSignal<[ChangeSeatsRequest]>('changeSeats');
export const changeAddOnsSignal = defineSignal<[ChangeAddOnsRequest]>('changeAddOns');
export const cancelSignal = defineSignal<[CancelRequest]>('cancel');
export const periodOutcomeSignal = defineSignal<[PeriodOutcome]>('periodOutcome');
export const createCheckoutUpdate = defineUpdate<CheckoutResult, [CheckoutRequest]>('createCheckout');
export const startSubscriptionUpdate = defineUpdate<StartSubscriptionResult, [StartSubscriptionRequest]>('startSubscription');
export const changePlanUpdate = defineUpdate<ProrationResult, [ChangePlanRequest]>('changePlan');
export const subscriptionStateQuery = defineQuery<SubscriptionView>('state');
/** Forwarded by the subscription to the close of the period an invoice belongs to. */
export const invoiceEventSignal = defineSignal<[StripeEventSummary]>('invoiceEvent');
