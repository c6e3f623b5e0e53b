/**
 * Search attributes that make the Temporal UI an ops console: find every workflow of a team, a
 * subscription or a billing period, and the subscriptions an app's Checkout started. Registered on
 * the server by the launcher (src/dev/temporal-server.ts) and by docker-compose; keep the lists in step.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const TeamId = defineSearchAttributeKey('TeamId', SearchAttributeType.KEYWORD);
/** Set on a subscription workflow started by an app's Checkout (src/orchestration/subscriptions.ts); Stripe's and operators' starts carry none. */
export const AppId = defineSearchAttributeKey('AppId', SearchAttributeType.KEYWORD);
export const SubscriptionId = defineSearchAttributeKey('SubscriptionId', SearchAttributeType.KEYWORD);
/** Reserved for contract workflows, which do not exist yet: registered now so they need no server change; nothing sets it. */
export const ContractId = defineSearchAttributeKey('ContractId', SearchAttributeType.KEYWORD);
export const BillingPeriod = defineSearchAttributeKey('BillingPeriod', SearchAttributeType.KEYWORD);
/** Where a billing workflow stands (e.g. `awaiting_payment`, `dunning`, `reconciliation_mismatch`). */
export const BillingState = defineSearchAttributeKey('BillingState', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [TeamId, AppId, SubscriptionId, ContractId, BillingPeriod, BillingState] as const;
