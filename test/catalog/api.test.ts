/** The catalog over HTTP: operators publish and read versions; apps read the public catalog with catalog:read. */
import { beforeAll, describe, expect, it } from 'vitest';
import { adminSql, testApi, uniqueId, type TestApi } from '../helpers/context.js';
import { appToken } from '../helpers/tokens.js';
import { planBody, planCode } from './fixtures.js';

let api: TestApi;
let app: { appId: string; secret: string };

beforeAll(async () => {
  api = await testApi({ taskQueue: uniqueId('catalog-api') });
  const appId = uniqueId('app');
  const res = await api.admin('POST', '/admin/apps', { appId, name: 'Catalog reader' });
  app = { appId, secret: ((await res.json()) as { secret: string }).secret };
});

const json = async <T>(res: Response) => (await res.json()) as T;
type Version = { id: string; version: number; baseFee: string; usagePrices: unknown[] };
type Problem = { code: string; errors?: { path: string; message: string }[] };

describe('POST /admin/plans', () => {
  it('publishes version 1 with 201, then answers the same content with 200 and Idempotency-Replayed', async () => {
    const code = planCode();
    const first = await api.admin('POST', '/admin/plans', planBody(code));
    expect(first.status).toBe(201);
    expect(await json<Version>(first)).toMatchObject({ id: `${code}-v1`, version: 1, baseFee: '20' });
    const replay = await api.admin('POST', '/admin/plans', planBody(code));
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotency-replayed')).toBe('true');
    const changed = await api.admin('POST', '/admin/plans', planBody(code, { baseFee: '22' }));
    expect([changed.status, (await json<Version>(changed)).id]).toEqual([201, `${code}-v2`]);
  });

  it('answers invalid content with 400 naming every bad field, and writes nothing', async () => {
    const code = planCode();
    const res = await api.admin(
      'POST',
      '/admin/plans',
      planBody(code, {
        baseFee: 20.5,
        usagePrices: [
          { key: 'tokens', displayName: 'Tokens', meter: 'llm.tokens', price: { model: 'per_unit', unitPrice: '0.01' } },
          {
            key: 'images',
            displayName: 'Images',
            meter: 'image.generations',
            price: { model: 'graduated', tiers: [{ upTo: '10', unitPrice: '1' }, { upTo: '5', unitPrice: '1' }, { upTo: null, unitPrice: '1' }] },
          },
        ],
      }),
    );
    expect(res.status).toBe(400);
    const body = await json<Problem>(res);
    expect(body.code).toBe('validation_failed');
    expect(body.errors!.map((e) => e.path).sort()).toEqual(['baseFee', 'usagePrices.0.meter', 'usagePrices.1.price.tiers.1.upTo']);
    expect(await adminSql()`select 1 from plans where code = ${code}`).toHaveLength(0);
  });

  it('answers ambiguous per-dimension prices with 400 naming the price', async () => {
    const price = { model: 'per_unit', unitPrice: '1', per: '1000000' };
    const res = await api.admin(
      'POST',
      '/admin/plans',
      planBody(planCode(), {
        usagePrices: [
          { key: 'a', displayName: 'A', meter: 'llm.input_tokens', filter: { provider: 'openai' }, price },
          { key: 'b', displayName: 'B', meter: 'llm.input_tokens', filter: { provider: 'openai' }, price },
        ],
      }),
    );
    expect(res.status).toBe(400);
    expect((await json<Problem>(res)).errors).toEqual([{ path: 'usagePrices.1.filter', message: expect.stringContaining('ambiguous') }]);
  });

  it('answers a publish based on an outdated version with 409 conflict', async () => {
    const code = planCode();
    await api.admin('POST', '/admin/plans', planBody(code));
    await api.admin('POST', '/admin/plans', planBody(code, { baseFee: '21' }));
    const res = await api.admin('POST', '/admin/plans', planBody(code, { baseFee: '23', expectedLatestVersion: 1 }));
    expect(res.status).toBe(409);
    expect((await json<Problem>(res)).code).toBe('conflict');
  });

  it('requires the admin credential', async () => {
    const res = await api.request('POST', '/admin/plans', { body: planBody(planCode()) });
    expect(res.status).toBe(401);
  });
});

describe('reading plans as an operator', () => {
  it('lists plans page by page, reads a plan with its versions, and one version', async () => {
    const code = planCode('zz');
    await api.admin('POST', '/admin/plans', planBody(code));
    await api.admin('POST', '/admin/plans', planBody(code, { baseFee: '30' }));

    const history = await json<{ versions: Version[] }>(await api.admin('GET', `/admin/plans/${code}`));
    expect(history.versions.map((v) => v.version)).toEqual([2, 1]);
    const v1 = await api.admin('GET', `/admin/plans/${code}/versions/1`);
    expect([v1.status, (await json<Version>(v1)).baseFee]).toEqual([200, '20']);

    const page = await json<{ items: { code: string }[]; next: string | null }>(await api.admin('GET', '/admin/plans?limit=1'));
    expect(page.items).toHaveLength(1);
    expect(page.next).toBe(page.items[0]!.code);
    const after = await json<{ items: { code: string }[] }>(await api.admin('GET', `/admin/plans?limit=1&after=${page.next}`));
    expect(after.items[0]!.code > page.next!).toBe(true);
  });

  it('answers an unknown plan or version with 404 and a bad version number with 400', async () => {
    expect((await api.admin('GET', `/admin/plans/${planCode()}`)).status).toBe(404);
    expect((await api.admin('GET', `/admin/plans/${planCode()}/versions/1`)).status).toBe(404);
    expect((await api.admin('GET', `/admin/plans/${planCode()}/versions/0`)).status).toBe(400);
  });
});

describe('GET /v1/plans for apps', () => {
  const token = (scopes: string[]) => appToken({ appId: app.appId, secret: app.secret, scopes });

  it('lists the latest version of each plan with the catalog:read scope, no team needed', async () => {
    const code = planCode('v1');
    await api.admin('POST', '/admin/plans', planBody(code));
    await api.admin('POST', '/admin/plans', planBody(code, { baseFee: '25' }));
    const res = await api.request('GET', `/v1/plans/${code}`, { token: await token(['catalog:read']) });
    expect(res.status).toBe(200);
    expect(await json<Version>(res)).toMatchObject({ id: `${code}-v2`, baseFee: '25' });
    const list = await api.request('GET', `/v1/plans?limit=200`, { token: await token(['catalog:read']) });
    expect(list.status).toBe(200);
  });

  it('requires a token with the catalog:read scope', async () => {
    expect((await api.request('GET', '/v1/plans')).status).toBe(401);
    const res = await api.request('GET', '/v1/plans', { token: await token(['usage:write']) });
    expect(res.status).toBe(403);
    expect((await json<Problem>(res)).code).toBe('scope_missing');
  });
});
