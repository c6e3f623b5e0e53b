/** The SDK's wallet methods over a real socket: read the wallet, hold, capture, release, and page the history. */
import { beforeAll, describe, expect, it } from 'vitest';
import { BillingApiError, createBillingClient, type BillingClient } from '../../sdk/src/index.js';
import { grantCredit } from '../../src/wallets/grants.js';
import { appSql, startHttpApi, uniqueId } from '../helpers/context.js';

let billing: BillingClient;
const teamId = uniqueId('team');

beforeAll(async () => {
  const { baseUrl, api } = await startHttpApi({ taskQueue: uniqueId('wallet-sdk') });
  const appId = uniqueId('app');
  const { secret } = (await (await api.admin('POST', '/admin/apps', { appId, name: 'Wallet SDK' })).json()) as { secret: string };
  await api.deps.sql`insert into teams (id, name, kind, currency, request_hash) values (${teamId}, 'SDK team', 'shared', 'USD', '\\x00')`;
  await api.deps.sql`insert into team_apps (team_id, app_id) values (${teamId}, ${appId})`;
  await grantCredit(appSql(), { teamId, source: 'purchase', amountMinor: 10_000_000n, reason: 'sdk', idempotencyKey: 'fund' }, 'test');
  billing = createBillingClient({ appId, secret, baseUrl });
});

describe('the SDK wallet methods', () => {
  it('hold, capture and release move the available balance as the API says', async () => {
    const hold = await billing.createHold(teamId, { amount: '4', idempotencyKey: 'sdk-hold' });
    expect((await billing.getWallet(teamId)).available).toBe('6.000000');
    const capture = await billing.captureHold(teamId, hold.holdId, '1.5');
    expect(capture.hold.status).toBe('captured');
    const other = await billing.createHold(teamId, { amount: '2' });
    expect((await billing.releaseHold(teamId, other.holdId)).status).toBe('released');
    const wallet = await billing.getWallet(teamId);
    expect([wallet.balance, wallet.held, wallet.available]).toEqual(['8.500000', '0.000000', '8.500000']);
    const page = await billing.listWalletTransactions(teamId, { limit: 1 });
    expect(page.entries[0]).toMatchObject({ transactionCode: 'wallet_debit', balanceBefore: '10.000000', balanceAfter: '8.500000' });
    expect(page.nextCursor).not.toBeNull();
  });

  it('surfaces a hold beyond the available balance as insufficient_funds', async () => {
    const err = await billing.createHold(teamId, { amount: '100' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BillingApiError);
    expect((err as BillingApiError).code).toBe('insufficient_funds');
  });
});
