/** Operator routes: apps and teams are created once per business key; bad input names every field and writes nothing. */
import { beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/shared/limits.js';
import { adminSql, testApi, uniqueId, type TestApi } from '../helpers/context.js';

let api: TestApi;

beforeAll(async () => {
  api = await testApi({ taskQueue: uniqueId('admin-tests') });
});

const json = async <T>(res: Response) => (await res.json()) as T;

describe('admin authentication', () => {
  it('rejects operator routes without the admin credential', async () => {
    const res = await api.request('POST', '/admin/apps', { body: { appId: uniqueId('app'), name: 'x' } });
    expect(res.status).toBe(401);
    expect((await json<{ code: string }>(res)).code).toBe('admin_unauthorized');
  });

  it('does not accept an app token as the admin credential', async () => {
    const res = await api.request('POST', '/admin/apps', { body: { appId: uniqueId('app'), name: 'x' }, token: 'eyJhbGciOiJIUzI1NiJ9.e30.x' });
    expect(res.status).toBe(401);
  });
});

describe('registering an app', () => {
  it('returns the secret once and replays without it', async () => {
    const appId = uniqueId('app');
    const first = await api.admin('POST', '/admin/apps', { appId, name: 'Receipts' });
    expect(first.status).toBe(201);
    const created = await json<{ secret: string; secretId: string }>(first);
    expect(created.secret).toMatch(/^bsk_[A-Za-z0-9_-]{43}$/);

    const replay = await api.admin('POST', '/admin/apps', { appId, name: 'Receipts' });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotency-replayed')).toBe('true');
    expect((await json<{ secret: string | null }>(replay)).secret).toBeNull();
  });

  it('stores the secret encrypted, never in clear', async () => {
    const appId = uniqueId('app');
    const { secret } = await json<{ secret: string }>(await api.admin('POST', '/admin/apps', { appId, name: 'Enc' }));
    const [row] = await adminSql()<{ ciphertext: Buffer }[]>`select ciphertext from app_secrets where app_id = ${appId}`;
    expect(row!.ciphertext.toString('latin1')).not.toContain(secret);
  });

  it('answers a reused appId with a different name with 409 idempotency_conflict', async () => {
    const appId = uniqueId('app');
    await api.admin('POST', '/admin/apps', { appId, name: 'One' });
    const res = await api.admin('POST', '/admin/apps', { appId, name: 'Two' });
    expect(res.status).toBe(409);
    expect((await json<{ code: string }>(res)).code).toBe('idempotency_conflict');
  });

  it('returns 404 when rotating the secret of an unknown app', async () => {
    const res = await api.admin('POST', `/admin/apps/${uniqueId('ghost')}/secrets/rotate`);
    expect(res.status).toBe(404);
  });
});

describe('creating a team', () => {
  it('names every bad field in one 400 and writes nothing', async () => {
    const teamId = uniqueId('team');
    const res = await api.admin('POST', '/admin/teams', { teamId, name: '', kind: 'family', currency: 'XXX', surprise: true });
    expect(res.status).toBe(400);
    const body = await json<{ code: string; errors: { path: string }[] }>(res);
    expect(body.code).toBe('validation_failed');
    expect(body.errors.map((e) => e.path).sort()).toEqual(['currency', 'kind', 'name', 'surprise']);
    const rows = await adminSql()`select 1 from teams where id = ${teamId}`;
    expect(rows).toHaveLength(0);
  });

  it('rejects unknown apps by index and leaves no team behind', async () => {
    const teamId = uniqueId('team');
    const res = await api.admin('POST', '/admin/teams', { teamId, name: 'T', kind: 'shared', appIds: [uniqueId('ghost')] });
    expect(res.status).toBe(400);
    expect((await json<{ errors: { path: string }[] }>(res)).errors[0]!.path).toBe('appIds.0');
    expect(await adminSql()`select 1 from teams where id = ${teamId}`).toHaveLength(0);
  });

  it('answers malformed JSON with 400 malformed_json', async () => {
    const res = await api.request('POST', '/admin/teams', { rawBody: '{"teamId":', token: 'test-admin-token-0123456789abcdef', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect((await json<{ code: string }>(res)).code).toBe('malformed_json');
  });

  it('answers a body over the limit with 413 payload_too_large', async () => {
    const big = 'x'.repeat(LIMITS.requestBodyBytesMax + 1);
    const res = await api.request('POST', '/admin/teams', {
      rawBody: JSON.stringify({ name: big }),
      token: 'test-admin-token-0123456789abcdef',
      headers: { 'content-type': 'application/json', 'content-length': String(big.length + 11) },
    });
    expect(res.status).toBe(413);
    expect((await json<{ code: string }>(res)).code).toBe('payload_too_large');
  });

  it('answers an unknown route with a problem, not an HTML page', async () => {
    const res = await api.request('GET', '/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });
});
