/**
 * Text Postgres cannot store (NUL, unpaired surrogates) in any field of any route is a 400 naming the
 * field, from the one validation hook every route shares; never a 500, and nothing is written.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { adminSql, testApi, TEST_ADMIN_TOKEN, uniqueId, type TestApi } from '../helpers/context.js';
import { planBody, planCode } from '../catalog/fixtures.js';

let api: TestApi;
let appId: string;

beforeAll(async () => {
  api = await testApi({ taskQueue: uniqueId('hygiene') });
  appId = uniqueId('app');
  await api.admin('POST', '/admin/apps', { appId, name: 'Hygiene' });
});

type Problem = { status: number; code: string; errors?: { path: string; message: string }[] };
const problem = async (res: Response) => ({ ...((await res.json()) as Problem), status: res.status });

const NUL = 'a\u0000b';
const HIGH = 'x\ud800';
const LOW = '\udfffy';
const count = async (table: string, where: string, value: string) =>
  Number((await adminSql().unsafe(`select count(*) as n from ${table} where ${where} = $1`, [value]))[0]!.n);

describe('admin text fields', () => {
  it.each([
    ['NUL', NUL],
    ['a lone high surrogate', HIGH],
    ['a lone low surrogate', LOW],
  ])('refuses a team whose name and externalRef hold %s, naming both, and writes nothing', async (_name, bad) => {
    const teamId = uniqueId('team');
    const res = await api.admin('POST', '/admin/teams', { teamId, name: bad, kind: 'shared', externalRef: bad });
    expect(await problem(res)).toMatchObject({ status: 400, code: 'validation_failed', errors: [{ path: 'name' }, { path: 'externalRef' }] });
    expect(await count('teams', 'id', teamId)).toBe(0);
  });

  it('refuses an app name with NUL and writes neither app nor secret', async () => {
    const id = uniqueId('app');
    const res = await api.admin('POST', '/admin/apps', { appId: id, name: NUL });
    expect(await problem(res)).toMatchObject({ status: 400, code: 'validation_failed', errors: [{ path: 'name' }] });
    expect(await count('apps', 'id', id)).toBe(0);
    expect(await count('app_secrets', 'app_id', id)).toBe(0);
  });

  it('refuses NUL in a plan name, in an add-on name and in a feature key, naming each', async () => {
    const code = planCode();
    const body = planBody(code, {
      name: NUL,
      features: { [`s${NUL}`]: true },
      addOns: { extra: { name: HIGH, price: '5' } },
    });
    const res = await api.admin('POST', '/admin/plans', body);
    const p = await problem(res);
    expect(p).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(p.errors!.map((e) => e.path)).toEqual(expect.arrayContaining(['name', 'addOns.extra.name', `features.s${NUL}`]));
    expect(await count('plans', 'code', code)).toBe(0);
  });

  it('refuses a lone surrogate in a cost rate note and writes no rate', async () => {
    const provider = `p-${uniqueId('x').slice(2).toLowerCase()}`;
    const res = await api.admin('POST', '/admin/cost-rates', { provider, model: 'm', meter: 'llm.input_tokens', unitCost: '1', per: '1000000', effectiveFrom: '2026-01-01T00:00:00Z', note: HIGH });
    expect(await problem(res)).toMatchObject({ status: 400, errors: [{ path: 'note' }] });
    expect(await count('cost_rates', 'provider', provider)).toBe(0);
  });

  it('names schema problems and unstorable text of one body in the same answer', async () => {
    const res = await api.admin('POST', '/admin/teams', { teamId: uniqueId('team'), name: NUL, kind: 'family' });
    const p = await problem(res);
    expect(p.errors!.map((e) => e.path).sort()).toEqual(['kind', 'name']);
  });
});

describe('query filters', () => {
  it('refuses NUL in a list filter, naming the parameter', async () => {
    const res = await api.request('GET', '/admin/cost-rates?provider=a%00b', { token: TEST_ADMIN_TOKEN });
    expect(await problem(res)).toMatchObject({ status: 400, code: 'validation_failed', errors: [{ path: 'query.provider' }] });
  });

  it('answers a path segment that is not UTF-8 with a 4xx, not a 500', async () => {
    const res = await api.request('GET', '/admin/teams/%ED%A0%80abc', { token: TEST_ADMIN_TOKEN });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });
});

describe('accepted text', () => {
  it('keeps paired surrogates (emoji) and other Unicode as they are', async () => {
    const teamId = uniqueId('team');
    const res = await api.admin('POST', '/admin/teams', { teamId, name: 'Équipe 😀 团队', kind: 'shared' });
    expect(res.status).toBe(201);
    const [row] = await adminSql()<{ name: string }[]>`select name from teams where id = ${teamId}`;
    expect(row!.name).toBe('Équipe 😀 团队');
  });
});
