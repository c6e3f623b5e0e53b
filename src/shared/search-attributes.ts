/**
 * Search attributes that make the Temporal UI an ops console: find every workflow of a team, an app,
 * a subscription, a contract or a billing period. Registered on the server by the launcher
 * (src/dev/temporal-server.ts) and by docker-compose; keep the lists in step.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const TeamId = defineSearchAttributeKey('TeamId', SearchAttributeType.KEYWORD);
export const AppId = defineSearchAttributeKey('AppId', SearchAttributeType.KEYWORD);
export const SubscriptionId = defineSearchAttributeKey('SubscriptionId', SearchAttributeType.KEYWORD);
export const ContractId = defineSearchAttributeKey('ContractId', SearchAttributeType.KEYWORD);
export const BillingPeriod = defineSearchAttributeKey('BillingPeriod', SearchAttributeType.KEYWORD);
/** Where a billing workflow stands (e.g. `awaiting_payment`, `dunning`, `reconciliation_mismatch`). */
export const BillingState = defineSearchAttributeKey('BillingState', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [TeamId, AppId, SubscriptionId, ContractId, BillingPeriod, BillingState] as const;
