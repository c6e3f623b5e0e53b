/**
 * What the COGS posting needs from the api: the ledger accounts of each provider. The posting itself
 * is built in SQL by usage_post_cogs() (sql/00006), inside the same statement that counts the batch:
 * rounding by difference (each posting moves round(after) − round(before) micro-dollars of a
 * counter's exact cost, half-even), netted per provider, debit `cogs:<provider>` and credit
 * `payable:<provider>`. The accounts come from here so the chart of accounts stays the one place
 * account codes and definitions are made.
 */
import { providerCogs, providerPayable } from '../ledger/accounts.js';
import { accountArgument } from '../ledger/request.js';

export const COGS_CURRENCY = 'USD';

/** usage_post_cogs()'s p_accounts: {"<provider>": [cogs account, payable account]} as JSON text. */
export function cogsAccountsArgument(providers: Iterable<string>): string {
  const accounts: Record<string, unknown> = {};
  for (const provider of providers) {
    accounts[provider] ??= [accountArgument(providerCogs(provider, COGS_CURRENCY)), accountArgument(providerPayable(provider, COGS_CURRENCY))];
  }
  return JSON.stringify(accounts);
}
