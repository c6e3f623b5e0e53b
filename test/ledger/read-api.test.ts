/**
 * The read API of the ledger: a team's balances and its entries, behind `billing:read` for the
 * team's own token, paged with a cursor that neither repeats nor skips, and filtered by account and
 * effective time.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { postTransactions } from '../../src/ledger/post.js';
import { LIMITS } from '../../src/shared/limits.js';
import { appSql, testApi, uniqueId, type TestApi } from '../helpers/context.js';
import { appToken } from '../helpers/tokens.js';
import { move, privateAccounts, request } from './fixtures.js';

let api: TestApi;
let appId: string;
let secret: string;
let a: ReturnType<typeof privateAccounts>;
let token: string;

interface Entry {
  entryId: string;
  accountCode: string;
  effectiveAt: string;
  side: string;
  amountMinor: string;
  amount: string;
  balanceAfterMinor: string;
  metadata: Record<string, unknown>;
}
interface Page {
  entries: Entry[];
  nextCursor: string | null;
}

const day = (d: number) => new Date(Date.UTC(2026, 0, d, 12));
const get = async <T>(path: string, t = token): Promise<{ status: number; body: T }> => {
  const res = await api.request('GET', path, { token: t });
  return { status: res.status, body: (await res.json()) as T };
};

beforeAll(async () => {
  api = await testApi({ taskQueue: uniqueId('ledger-read') });
  appId = uniqueId('app');
  ({ secret } = (await (await api.admin('POST', '/admin/apps', { appId, name: 'Ledger reader' })).json()) as { secret: string });
  a = privateAccounts();
  await api.deps.sql`insert into teams (id, name, kind, currency, request_hash) values (${a.teamId}, 'T', 'shared', 'USD', '\\x00')`;
  await api.deps.sql`insert into team_apps (team_id, app_id) values (${a.teamId}, ${appId})`;
  token = await appToken({ appId, secret, teamId: a.teamId, scopes: ['billing:read'] });

  // Ten days: a top-up of 10 each day, a spend of 3 on even days, one invoice on day 5 (21 wallet/receivable entries).
  const postings = [];
  for (let d = 1; d <= 10; d++) {
    postings.push(request(`read-fund-${d}`, move(a.clearing, a.wallet, 10_000_000n), { effectiveAt: day(d), metadata: { day: d } }));
    if (d % 2 === 0) postings.push(request(`read-spend-${d}`, move(a.wallet, a.revenue, 3_000_000n, a.teamId), { effectiveAt: day(d) }));
  }
  postings.push(request('read-invoice', move(a.receivable, a.revenue, 1_250_000n, a.teamId), { effectiveAt: day(5) }));
  await postTransactions(appSql(), postings);
});

describe('the OpenAPI document', () => {
  it('lists both ledger routes', async () => {
    const doc = (await (await api.request('GET', '/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/teams/{teamId}/balances', '/v1/teams/{teamId}/ledger']));
  });
});

describe('GET /v1/teams/:teamId/balances', () => {
  it("returns the team's accounts with exact amounts as decimal strings", async () => {
    const { status, body } = await get<{ teamId: string; balances: Array<Record<string, unknown>> }>(`/v1/teams/${a.teamId}/balances`);
    expect(status).toBe(200);
    expect(body.teamId).toBe(a.teamId);
    expect(body.balances).toEqual([
      { accountCode: a.receivable.code, kind: 'asset', currency: 'USD', scale: 6, balanceMinor: '1250000', balance: '1.250000', minBalanceMinor: null, maxBalanceMinor: null, entryCount: '1' },
      { accountCode: a.wallet.code, kind: 'liability', currency: 'USD', scale: 6, balanceMinor: '85000000', balance: '85.000000', minBalanceMinor: '0', maxBalanceMinor: null, entryCount: '15' },
    ]);
  });

  it('requires the billing:read scope', async () => {
    const other = await appToken({ appId, secret, teamId: a.teamId, scopes: ['teams:read'] });
    const { status, body } = await get<{ code: string }>(`/v1/teams/${a.teamId}/balances`, other);
    expect({ status, code: body.code }).toEqual({ status: 403, code: 'scope_missing' });
  });

  it("never shows one team's balances to a token of another team", async () => {
    const other = await appToken({ appId, secret, teamId: uniqueId('team'), scopes: ['billing:read'] });
    const { status, body } = await get<{ code: string }>(`/v1/teams/${a.teamId}/balances`, other);
    expect({ status, code: body.code }).toEqual({ status: 403, code: 'team_mismatch' });
  });

  it('refuses a request without a token', async () => {
    const res = await api.request('GET', `/v1/teams/${a.teamId}/balances`);
    expect(res.status).toBe(401);
  });
});

describe('GET /v1/teams/:teamId/ledger', () => {
  async function allPages(query: string): Promise<{ entries: Entry[]; pages: number }> {
    const entries: Entry[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { status: number; body: Page } = await get<Page>(`/v1/teams/${a.teamId}/ledger?${query}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      entries.push(...page.body.entries);
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    return { entries, pages };
  }

  it('pages through every entry of the team once, newest effective time first', async () => {
    const { entries, pages } = await allPages('limit=4');
    expect(entries).toHaveLength(16);
    expect(pages).toBe(4);
    expect(new Set(entries.map((e) => e.entryId)).size).toBe(16);
    const times = entries.map((e) => e.effectiveAt);
    expect(times).toEqual([...times].sort().reverse());
    // Day 10 holds the top-up and then the spend; the later entry comes first.
    expect(entries[0]).toMatchObject({ accountCode: a.wallet.code, side: 'debit', amountMinor: '3000000', balanceAfterMinor: '85000000' });
    expect(entries[1]).toMatchObject({ accountCode: a.wallet.code, side: 'credit', amountMinor: '10000000', amount: '10.000000', metadata: { day: 10 } });
  });

  it('filters by account and by effective-time range', async () => {
    const { entries } = await allPages(`account=${encodeURIComponent(a.wallet.code)}&from=${day(3).toISOString()}&to=${day(5).toISOString()}&limit=2`);
    expect(entries.map((e) => [e.effectiveAt, e.side, e.balanceAfterMinor])).toEqual([
      [day(4).toISOString(), 'debit', '34000000'],
      [day(4).toISOString(), 'credit', '37000000'],
      [day(3).toISOString(), 'credit', '27000000'],
    ]);
    const receivable = await allPages(`account=${encodeURIComponent(a.receivable.code)}`);
    expect(receivable.entries.map((e) => e.amountMinor)).toEqual(['1250000']);
  });

  it('answers an account that is not the team’s with 404', async () => {
    const { status, body } = await get<{ code: string }>(`/v1/teams/${a.teamId}/ledger?account=${encodeURIComponent(a.revenue.code)}`);
    expect({ status, code: body.code }).toEqual({ status: 404, code: 'not_found' });
  });

  it('names every bad query parameter', async () => {
    const { status, body } = await get<{ code: string; errors: Array<{ path: string }> }>(
      `/v1/teams/${a.teamId}/ledger?limit=${LIMITS.pageSizeMax + 1}&from=yesterday&colour=red`,
    );
    expect(status).toBe(400);
    expect(body.code).toBe('validation_failed');
    expect(body.errors.map((e) => e.path).sort()).toEqual(['query.colour', 'query.from', 'query.limit']);
  });

  it('refuses a cursor it did not issue', async () => {
    const { status, body } = await get<{ code: string; errors: Array<{ path: string }> }>(`/v1/teams/${a.teamId}/ledger?cursor=bm9wZQ`);
    expect({ status, code: body.code, paths: body.errors.map((e) => e.path) }).toEqual({ status: 400, code: 'validation_failed', paths: ['query.cursor'] });
  });
});
