/**
 * Wallets against real Postgres: operator grants (audited, idempotent), debits in consumption order
 * under concurrency, the bounded overdraft, grant expiry through the ledger, holds with lazy expiry,
 * the read routes, and bad input that writes nothing. Each test uses a team of its own.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { teamPromoCredit, teamReceivable, teamWallet } from '../../src/ledger/accounts.js';
import { verifyLedger } from '../../src/ledger/verify.js';
import type { AppError } from '../../src/shared/errors.js';
import { debitWallet } from '../../src/wallets/debits.js';
import { expireDueGrants, grantCredit } from '../../src/wallets/grants.js';
import { createHold, releaseHold } from '../../src/wallets/holds.js';
import { adminSql, appSql, testApi, uniqueId, type TestApi } from '../helpers/context.js';
import { appToken } from '../helpers/tokens.js';
import { balanceOf } from '../ledger/fixtures.js';

let api: TestApi;
let appId: string;
let secret: string;

const USD = (major: number) => BigInt(Math.round(major * 1_000_000));

async function newTeam(): Promise<{ teamId: string; token: string }> {
  const teamId = uniqueId('team');
  await api.deps.sql`insert into teams (id, name, kind, currency, request_hash) values (${teamId}, 'Wallet team', 'shared', 'USD', '\\x00')`;
  await api.deps.sql`insert into team_apps (team_id, app_id) values (${teamId}, ${appId})`;
  return { teamId, token: await appToken({ appId, secret, teamId, scopes: ['wallet:read', 'wallet:write'] }) };
}

const grantBody = (o: Record<string, unknown> = {}) => ({ amount: '10.00', source: 'purchase', reason: 'test top-up', ...o });
const adminPost = (path: string, body: unknown, key?: string) =>
  api.request('POST', path, { body, token: api.deps.adminToken, headers: key ? { 'idempotency-key': key } : {} });
const appPost = (path: string, token: string, body?: unknown, key?: string) =>
  api.request('POST', path, { body, token, headers: key ? { 'idempotency-key': key } : {} });

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

interface Grant {
  grantId: string;
  remainingMinor: string;
  status: string;
}
interface Wallet {
  balanceMinor: string;
  heldMinor: string;
  availableMinor: string;
  available: string;
  grants: Grant[];
}
interface Hold {
  holdId: string;
  status: string;
  capturedMinor: string | null;
}

/** Σ remaining of the team's grants and the ledger's wallet + promo balances: they must agree. */
async function reconcile(teamId: string): Promise<{ grants: bigint; ledger: bigint }> {
  const [row] = await adminSql()<{ s: bigint }[]>`select coalesce(sum(remaining_minor), 0)::bigint as s from credit_grants where team_id = ${teamId}`;
  const ledger = (await balanceOf(adminSql(), teamWallet(teamId, 'USD').code)) + (await balanceOf(adminSql(), teamPromoCredit(teamId, 'USD').code));
  return { grants: row!.s, ledger };
}

async function writes(teamId: string): Promise<number> {
  const [row] = await adminSql()<{ n: number }[]>`
    select ((select count(*) from credit_grants where team_id = ${teamId}) + (select count(*) from wallet_holds where team_id = ${teamId})
          + (select count(*) from wallet_debits where team_id = ${teamId}) + (select count(*) from ledger_transactions where metadata->>'teamId' = ${teamId}))::int as n`;
  return row!.n;
}

beforeAll(async () => {
  api = await testApi({ taskQueue: uniqueId('wallets') });
  appId = uniqueId('app');
  ({ secret } = await json<{ secret: string }>(await api.admin('POST', '/admin/apps', { appId, name: 'Wallet app' })));
});

describe('operator grants', () => {
  it('funds the wallet from a purchase and the promo account from a promotion, audited with the reason', async () => {
    const { teamId } = await newTeam();
    expect((await adminPost(`/admin/teams/${teamId}/wallet/grants`, grantBody(), 'g1')).status).toBe(201);
    expect((await adminPost(`/admin/teams/${teamId}/wallet/grants`, grantBody({ source: 'promotion', amount: '2.5', reason: 'launch promo' }), 'g2')).status).toBe(201);
    expect(await balanceOf(appSql(), teamWallet(teamId, 'USD').code)).toBe(USD(10));
    expect(await balanceOf(appSql(), teamPromoCredit(teamId, 'USD').code)).toBe(USD(2.5));
    const audits = await appSql()<{ action: string; details: { reason: string } }[]>`select action, details from audit_log where subject = ${teamId} order by id`;
    expect(audits.map((a) => [a.action, a.details.reason])).toEqual([
      ['wallet.grant_created', 'test top-up'],
      ['wallet.grant_created', 'launch promo'],
    ]);
  });

  it('replays the same key and payload with the first grant, and refuses the key with another payload', async () => {
    const { teamId } = await newTeam();
    const first = await adminPost(`/admin/teams/${teamId}/wallet/grants`, grantBody(), 'same');
    const again = await adminPost(`/admin/teams/${teamId}/wallet/grants`, grantBody(), 'same');
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.headers.get('idempotency-replayed')).toBe('true');
    expect((await json<Grant>(again)).grantId).toBe((await json<Grant>(first)).grantId);
    const other = await adminPost(`/admin/teams/${teamId}/wallet/grants`, grantBody({ amount: '11.00' }), 'same');
    expect(other.status).toBe(409);
    expect(await balanceOf(appSql(), teamWallet(teamId, 'USD').code)).toBe(USD(10));
  });

  it('answers bad input with a 400 naming each field and writes nothing', async () => {
    const { teamId, token: own } = await newTeam();
    for (const [body, field] of [[{ amount: '1.0000001' }, 'amount'], [{ amount: '5', ttlSeconds: 0 }, 'ttlSeconds'], [{ amount: '5', extra: 1 }, '']] as const) {
      const res = await appPost(`/v1/teams/${teamId}/wallet/holds`, own, body, 'hold-bad');
      expect(res.status, JSON.stringify(body)).toBe(400);
      if (field) expect((await json<{ errors: { path: string }[] }>(res)).errors.map((e) => e.path)).toContain(field);
    }
    const patch = await api.request('PATCH', `/admin/teams/${teamId}/wallet`, { body: { overdraftLimit: '1e3' }, token: api.deps.adminToken });
    expect((await json<{ errors: { path: string }[] }>(patch)).errors.map((e) => e.path)).toContain('overdraftLimit');
    const cases: [Record<string, unknown>, string][] = [
      [grantBody({ amount: '1.0000001' }), 'amount'],
      [grantBody({ amount: '1000000001' }), 'amount'],
      [grantBody({ amount: '99999999999999999999' }), 'amount'],
      [grantBody({ amount: '0' }), 'amount'],
      [grantBody({ amount: '-5' }), 'amount'],
      [grantBody({ priority: -1 }), 'priority'],
      [grantBody({ priority: 10_001 }), 'priority'],
      [grantBody({ source: 'gift' }), 'source'],
      [grantBody({ reason: '' }), 'reason'],
      [grantBody({ expiresAt: '2020-01-01T00:00:00Z' }), 'expiresAt'],
    ];
    for (const [i, [body, field]] of cases.entries()) {
      const res = await adminPost(`/admin/teams/${teamId}/wallet/grants`, body, `bad-${i}`);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const problem = await json<{ errors: { path: string }[] }>(res);
      expect(problem.errors.map((e) => e.path), JSON.stringify(body)).toContain(field);
    }
    expect((await adminPost(`/admin/teams/${teamId}/wallet/grants`, grantBody())).status).toBe(400);
    const token = (await newTeam()).token;
    const hold = await appPost(`/v1/teams/${teamId}/wallet/holds`, token, { amount: '1' }, 'h');
    expect(hold.status).toBe(403);
    expect(await writes(teamId)).toBe(0);
  });
});

describe('debits', () => {
  it('consume grants by priority, then soonest expiry, then age', async () => {
    const { teamId } = await newTeam();
    const t0 = new Date();
    const g = async (key: string, amount: number, o: { priority?: number; expiresAt?: Date; source?: 'purchase' | 'promotion' } = {}) =>
      (await grantCredit(appSql(), { teamId, source: o.source ?? 'purchase', amountMinor: USD(amount), priority: o.priority, expiresAt: o.expiresAt ?? null, reason: 'order', idempotencyKey: key }, 'test', t0)).grant;
    const never = await g('never', 5);
    const later = await g('later', 5, { expiresAt: new Date(t0.getTime() + 7200_000) });
    const sooner = await g('sooner', 5, { expiresAt: new Date(t0.getTime() + 3600_000) });
    const promoFirst = await g('promo-first', 2, { priority: 1, source: 'promotion' });
    await debitWallet(appSql(), { teamId, appId, amountMinor: USD(8), idempotencyKey: 'd1' }, t0);
    const remaining = await appSql()<{ id: string; remaining_minor: bigint }[]>`select id, remaining_minor from credit_grants where team_id = ${teamId}`;
    const left = new Map(remaining.map((r) => [r.id, r.remaining_minor]));
    expect([left.get(promoFirst.id), left.get(sooner.id), left.get(later.id), left.get(never.id)]).toEqual([0n, 0n, USD(4), USD(5)]);
    expect(await reconcile(teamId)).toEqual({ grants: USD(9), ledger: USD(9) });
  });

  it('32 concurrent debits against one wallet never overdraw and charge exactly what fits', async () => {
    const { teamId } = await newTeam();
    await grantCredit(appSql(), { teamId, source: 'purchase', amountMinor: USD(10), reason: 'race', idempotencyKey: 'fund' }, 'test');
    const results = await Promise.allSettled(
      Array.from({ length: 32 }, (_, i) => debitWallet(appSql(), { teamId, appId, amountMinor: USD(0.5), idempotencyKey: `race-${i}` })),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(20);
    expect(refused.map((r) => (r.reason as AppError).code)).toEqual(Array(12).fill('insufficient_funds'));
    expect(await balanceOf(appSql(), teamWallet(teamId, 'USD').code)).toBe(0n);
    expect(await reconcile(teamId)).toEqual({ grants: 0n, ledger: 0n });
    const [min] = await adminSql()<{ m: bigint }[]>`
      select min(e.balance_after_minor)::bigint as m from ledger_entries e join ledger_accounts a on a.id = e.account_id where a.code = ${teamWallet(teamId, 'USD').code}`;
    expect(min!.m).toBe(0n);
  });

  it('go beyond the credit only up to the overdraft limit, on the receivable, never as a negative wallet', async () => {
    const { teamId } = await newTeam();
    await grantCredit(appSql(), { teamId, source: 'purchase', amountMinor: USD(1), reason: 'od', idempotencyKey: 'fund' }, 'test');
    const patched = await api.request('PATCH', `/admin/teams/${teamId}/wallet`, { body: { overdraftLimit: '0.75', billingMode: 'wallet' }, token: api.deps.adminToken });
    expect(patched.status).toBe(200);
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => debitWallet(appSql(), { teamId, appId, amountMinor: USD(0.25), idempotencyKey: `od-${i}` })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(7);
    expect(await balanceOf(appSql(), teamWallet(teamId, 'USD').code)).toBe(0n);
    expect(await balanceOf(appSql(), teamReceivable(teamId, 'USD').code)).toBe(USD(0.75));
    const [audit] = await appSql()<{ n: number }[]>`select count(*)::int as n from audit_log where subject = ${teamId} and action = 'wallet.settings_changed'`;
    expect(audit!.n).toBe(1);
  });

  it('have the next purchase pay back the overdraft before it becomes credit; promotional credit does not', async () => {
    const { teamId, token } = await newTeam();
    await api.request('PATCH', `/admin/teams/${teamId}/wallet`, { body: { overdraftLimit: '1' }, token: api.deps.adminToken });
    await debitWallet(appSql(), { teamId, appId, amountMinor: USD(0.75), idempotencyKey: 'od' });
    const promo = await json<Grant & { overdraftSettledMinor: string }>(await adminPost(`/admin/teams/${teamId}/wallet/grants`, grantBody({ source: 'promotion', amount: '0.5' }), 'promo'));
    expect(promo.overdraftSettledMinor).toBe('0');
    const paid = await json<Grant & { overdraftSettledMinor: string }>(await adminPost(`/admin/teams/${teamId}/wallet/grants`, grantBody({ amount: '2' }), 'buy'));
    expect([paid.overdraftSettledMinor, paid.remainingMinor]).toEqual(['750000', '1250000']);
    expect(await balanceOf(appSql(), teamReceivable(teamId, 'USD').code)).toBe(0n);
    const wallet = await json<Wallet & { overdraftUsedMinor: string }>(await api.request('GET', `/v1/teams/${teamId}/wallet`, { token }));
    expect([wallet.balanceMinor, wallet.overdraftUsedMinor]).toEqual(['1750000', '0']);
    expect(await reconcile(teamId)).toEqual({ grants: USD(1.75), ledger: USD(1.75) });
  });

  it('replay with the same key returns the first debit and a changed payload is a conflict', async () => {
    const { teamId } = await newTeam();
    await grantCredit(appSql(), { teamId, source: 'manual', amountMinor: USD(3), reason: 'x', idempotencyKey: 'fund' }, 'test');
    const first = await debitWallet(appSql(), { teamId, appId, amountMinor: USD(1), idempotencyKey: 'k' });
    const again = await debitWallet(appSql(), { teamId, appId, amountMinor: USD(1), idempotencyKey: 'k' });
    expect(again.replayed).toBe(true);
    expect(again.debit.ledgerTransactionId).toBe(first.debit.ledgerTransactionId);
    await expect(debitWallet(appSql(), { teamId, appId, amountMinor: USD(2), idempotencyKey: 'k' })).rejects.toMatchObject({ code: 'idempotency_conflict' });
    expect(await balanceOf(appSql(), teamWallet(teamId, 'USD').code)).toBe(USD(2));
  });
});

describe('grant expiry', () => {
  it('returns the unused remainder through the ledger exactly once, effective at the expiry time', async () => {
    const { teamId } = await newTeam();
    const t0 = new Date(Date.now() - 3 * 3600_000);
    const expiresAt = new Date(t0.getTime() + 3600_000);
    const { grant } = await grantCredit(appSql(), { teamId, source: 'purchase', amountMinor: USD(5), expiresAt, reason: 'expiring', idempotencyKey: 'exp' }, 'test', t0);
    await grantCredit(appSql(), { teamId, source: 'promotion', amountMinor: USD(1), expiresAt, reason: 'expiring promo', idempotencyKey: 'exp-promo' }, 'test', new Date(t0.getTime() + 1));
    // Usage before the expiry consumes it (the promo after the purchase: same priority, same expiry, younger).
    await debitWallet(appSql(), { teamId, appId, amountMinor: USD(2), idempotencyKey: 'before' }, new Date(t0.getTime() + 1800_000));
    // A debit after the expiry finds nothing to spend, even before any sweep.
    await expect(debitWallet(appSql(), { teamId, appId, amountMinor: USD(1), idempotencyKey: 'after' }, new Date(expiresAt.getTime() + 1))).rejects.toMatchObject({
      code: 'insufficient_funds',
    });
    const sweep = await Promise.all([expireDueGrants(appSql()), expireDueGrants(appSql())]);
    expect(sweep.reduce((n, s) => n + s.grants, 0)).toBeLessThanOrEqual(2);
    await expireDueGrants(appSql());
    const txs = await appSql()<{ effective_at: Date; code: string; amount: bigint }[]>`
      select t.effective_at, t.code, (select sum(amount_minor) from ledger_entries e where e.transaction_id = t.id and e.side = 'debit')::bigint as amount
      from ledger_transactions t where t.scope = 'wallet' and t.idempotency_key in (${`expire:${grant.id}`}) `;
    expect(txs).toHaveLength(1);
    expect(txs[0]!.effective_at.toISOString()).toBe(expiresAt.toISOString());
    expect(txs[0]!.amount).toBe(USD(3));
    const [count] = await appSql()<{ n: number }[]>`select count(*)::int as n from credit_grant_movements m join credit_grants g on g.id = m.grant_id where g.team_id = ${teamId} and m.kind = 'expiry'`;
    expect(count!.n).toBe(2);
    expect(await reconcile(teamId)).toEqual({ grants: 0n, ledger: 0n });
  });
});

describe('holds', () => {
  it('reserve credit, capture part of it and release the rest; a captured hold cannot be released', async () => {
    const { teamId, token } = await newTeam();
    await grantCredit(appSql(), { teamId, source: 'purchase', amountMinor: USD(5), reason: 'holds', idempotencyKey: 'fund' }, 'test');
    const created = await appPost(`/v1/teams/${teamId}/wallet/holds`, token, { amount: '3' }, 'h1');
    expect(created.status).toBe(201);
    const hold = await json<Hold>(created);
    const replay = await appPost(`/v1/teams/${teamId}/wallet/holds`, token, { amount: '3' }, 'h1');
    expect([replay.status, (await json<Hold>(replay)).holdId]).toEqual([200, hold.holdId]);
    expect((await appPost(`/v1/teams/${teamId}/wallet/holds`, token, { amount: '4' }, 'h1')).status).toBe(409);
    expect((await appPost(`/v1/teams/${teamId}/wallet/holds`, token, { amount: '2.000001' }, 'h2')).status).toBe(422);
    const wallet = await json<Wallet>(await api.request('GET', `/v1/teams/${teamId}/wallet`, { token }));
    expect([wallet.balanceMinor, wallet.heldMinor, wallet.availableMinor]).toEqual(['5000000', '3000000', '2000000']);
    // A plain debit cannot take the held credit.
    await expect(debitWallet(appSql(), { teamId, appId, amountMinor: USD(2.5), idempotencyKey: 'steal' })).rejects.toMatchObject({ code: 'insufficient_funds' });
    const capture = await appPost(`/v1/teams/${teamId}/wallet/holds/${hold.holdId}/capture`, token, { amount: '2' });
    expect(capture.status).toBe(200);
    expect((await json<{ hold: Hold }>(capture)).hold).toMatchObject({ status: 'captured', capturedMinor: '2000000' });
    const recapture = await appPost(`/v1/teams/${teamId}/wallet/holds/${hold.holdId}/capture`, token, { amount: '2' });
    expect([recapture.status, recapture.headers.get('idempotency-replayed')]).toEqual([200, 'true']);
    expect((await appPost(`/v1/teams/${teamId}/wallet/holds/${hold.holdId}/release`, token)).status).toBe(409);
    const after = await json<Wallet>(await api.request('GET', `/v1/teams/${teamId}/wallet`, { token }));
    expect([after.balanceMinor, after.heldMinor, after.available]).toEqual(['3000000', '0', '3.000000']);
    expect(await balanceOf(appSql(), teamWallet(teamId, 'USD').code)).toBe(USD(3));
  });

  it('released holds free their credit, and a hold past its expiry counts as released and cannot be captured', async () => {
    const { teamId, token } = await newTeam();
    await grantCredit(appSql(), { teamId, source: 'purchase', amountMinor: USD(5), reason: 'holds', idempotencyKey: 'fund' }, 'test');
    const released = await json<Hold>(await appPost(`/v1/teams/${teamId}/wallet/holds`, token, { amount: '5' }, 'r1'));
    const rel = await appPost(`/v1/teams/${teamId}/wallet/holds/${released.holdId}/release`, token);
    expect((await json<Hold>(rel)).status).toBe('released');
    expect((await appPost(`/v1/teams/${teamId}/wallet/holds/${released.holdId}/capture`, token)).status).toBe(409);
    const { hold: stale } = await createHold(appSql(), { teamId, appId, amountMinor: USD(4), ttlSeconds: 60, idempotencyKey: 'stale' }, new Date(Date.now() - 120_000));
    const wallet = await json<Wallet>(await api.request('GET', `/v1/teams/${teamId}/wallet`, { token }));
    expect([wallet.heldMinor, wallet.availableMinor]).toEqual(['0', '5000000']);
    expect((await appPost(`/v1/teams/${teamId}/wallet/holds/${stale.id}/capture`, token)).status).toBe(409);
    expect(await balanceOf(appSql(), teamWallet(teamId, 'USD').code)).toBe(USD(5));
    const relStale = await appPost(`/v1/teams/${teamId}/wallet/holds/${stale.id}/release`, token);
    expect([relStale.status, (await json<Hold>(relStale)).status]).toEqual([200, 'expired']);
  });
});

describe('reads', () => {
  it('page the wallet history newest first with balance before and after each entry', async () => {
    const { teamId, token } = await newTeam();
    await grantCredit(appSql(), { teamId, source: 'purchase', amountMinor: USD(5), reason: 'r', idempotencyKey: 'fund' }, 'test', new Date(Date.now() - 3000));
    await debitWallet(appSql(), { teamId, appId, amountMinor: USD(1), idempotencyKey: 'a' }, new Date(Date.now() - 2000));
    await debitWallet(appSql(), { teamId, appId, amountMinor: USD(1.5), idempotencyKey: 'b' }, new Date(Date.now() - 1000));
    type Page = { entries: { balanceBeforeMinor: string; balanceAfterMinor: string; transactionCode: string }[]; nextCursor: string | null };
    const first = await json<Page>(await api.request('GET', `/v1/teams/${teamId}/wallet/transactions?limit=2`, { token }));
    const second = await json<Page>(await api.request('GET', `/v1/teams/${teamId}/wallet/transactions?limit=2&cursor=${first.nextCursor}`, { token }));
    const all = [...first.entries, ...second.entries].map((e) => [e.transactionCode, e.balanceBeforeMinor, e.balanceAfterMinor]);
    expect(all).toEqual([
      ['wallet_debit', '4000000', '2500000'],
      ['wallet_debit', '5000000', '4000000'],
      ['wallet_grant', '0', '5000000'],
    ]);
    expect(second.nextCursor).toBeNull();
    const bad = await api.request('GET', `/v1/teams/${teamId}/wallet/transactions?limit=0`, { token });
    expect(bad.status).toBe(400);
  });

  it('leave a ledger the verifier finds balanced and consistent', async () => {
    const report = await verifyLedger(adminSql());
    expect(report.violations).toEqual([]);
  });
});

describe('low-balance events', () => {
  it('are raised once per crossing of the threshold and of zero, re-armed when the balance is back above, and paged newest first', async () => {
    const { teamId, token } = await newTeam();
    const patch = await api.request('PATCH', `/admin/teams/${teamId}/wallet`, { body: { lowBalanceThreshold: '5' }, token: api.deps.adminToken });
    expect(patch.status).toBe(200);
    expect((await adminPost(`/admin/teams/${teamId}/wallet/grants`, grantBody(), 'fund-1')).status).toBe(201);
    const debit = (major: number, key: string) => debitWallet(appSql(), { teamId, appId, amountMinor: USD(major), idempotencyKey: key });
    const types = async () => (await appSql()<{ type: string }[]>`select type from team_events where team_id = ${teamId} order by id`).map((r) => r.type);

    await debit(3, 'd1'); // 7 left
    expect(await types()).toEqual([]);
    await debit(3, 'd2'); // 4 left: below 5
    await debit(1, 'd3'); // 3 left: still below, no second notice
    await debit(1, 'd3'); // a replay raises nothing
    expect(await types()).toEqual(['wallet.balance_low']);
    const { hold } = await createHold(appSql(), { teamId, appId, amountMinor: USD(3), idempotencyKey: 'h1' }); // nothing available
    expect(await types()).toEqual(['wallet.balance_low', 'wallet.depleted']);
    await releaseHold(appSql(), { teamId, holdId: hold.id }); // 3 available again: depleted re-armed, still low
    expect(await types()).toEqual(['wallet.balance_low', 'wallet.depleted']);
    expect((await adminPost(`/admin/teams/${teamId}/wallet/grants`, grantBody(), 'fund-2')).status).toBe(201); // 13: low re-armed
    await debit(9, 'd4'); // 4 left: below 5 again
    expect(await types()).toEqual(['wallet.balance_low', 'wallet.depleted', 'wallet.balance_low']);

    interface EventPage {
      events: { eventId: string; type: string; detail: { availableMinor: string; thresholdMinor: string; cause: string } }[];
      nextCursor: string | null;
    }
    const first = await json<EventPage>(await api.request('GET', `/v1/teams/${teamId}/wallet/events?limit=2`, { token }));
    expect(first.events.map((e) => e.type)).toEqual(['wallet.balance_low', 'wallet.depleted']);
    expect(first.events[0]!.detail).toMatchObject({ availableMinor: USD(4).toString(), thresholdMinor: USD(5).toString() });
    expect(first.events[0]!.detail.cause).toMatch(/^debit:/);
    const rest = await json<EventPage>(await api.request('GET', `/v1/teams/${teamId}/wallet/events?limit=2&cursor=${first.nextCursor}`, { token }));
    expect(rest.events.map((e) => [e.type, e.detail.availableMinor])).toEqual([['wallet.balance_low', USD(4).toString()]]);
    expect(rest.nextCursor).toBeNull();
    expect((await api.request('GET', `/v1/teams/${teamId}/wallet/events?cursor=abc`, { token })).status).toBe(400);
  });
});
