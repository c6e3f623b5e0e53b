/**
 * Revoking an app secret (a leaked one) takes effect at once, through the admin route and the CLI, in
 * this api process and in every other one (Postgres NOTIFY); it is idempotent and audited.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { appsCommand } from '../../src/cli/apps.js';
import { AppDirectory } from '../../src/platform/app-directory.js';
import { adminSql, appSql, testApi, TEST_SECRETS_KEY, uniqueId, until, type TestApi } from '../helpers/context.js';
import { appToken } from '../helpers/tokens.js';

let api: TestApi;

beforeAll(async () => {
  api = await testApi({ taskQueue: uniqueId('app-secrets') });
});

const json = async <T>(res: Response) => (await res.json()) as T;

async function newApp(): Promise<{ appId: string; secret: string; secretId: string }> {
  const appId = uniqueId('app');
  const res = await api.admin('POST', '/admin/apps', { appId, name: 'Leaky' });
  const { secret, secretId } = await json<{ secret: string; secretId: string }>(res);
  return { appId, secret, secretId };
}

async function rotate(appId: string): Promise<{ secret: string; secretId: string }> {
  return json(await api.admin('POST', `/admin/apps/${appId}/secrets/rotate`));
}

/** Status of an app request signed with `secret` (GET /v1/plans needs only catalog:read). */
async function statusWith(appId: string, secret: string): Promise<number> {
  return (await api.request('GET', '/v1/plans', { token: await appToken({ appId, secret, scopes: ['catalog:read'] }) })).status;
}

describe('POST /admin/apps/{appId}/secrets/{secretId}/revoke', () => {
  it('refuses tokens of the revoked secret at once and keeps the other secret working', async () => {
    const app = await newApp();
    const next = await rotate(app.appId);
    expect(await statusWith(app.appId, app.secret)).toBe(200); // the rotation's grace: the previous secret still works

    const res = await api.admin('POST', `/admin/apps/${app.appId}/secrets/${app.secretId}/revoke`);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ appId: app.appId, secretId: app.secretId, activeSecretIds: [next.secretId] });
    expect(await statusWith(app.appId, app.secret)).toBe(401);
    expect(await statusWith(app.appId, next.secret)).toBe(200);
  });

  it('answers a second revocation with the first one, changes nothing and audits once', async () => {
    const app = await newApp();
    const first = await json<{ revokedAt: string }>(await api.admin('POST', `/admin/apps/${app.appId}/secrets/${app.secretId}/revoke`));
    const again = await api.admin('POST', `/admin/apps/${app.appId}/secrets/${app.secretId}/revoke`);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotency-replayed')).toBe('true');
    expect((await json<{ revokedAt: string }>(again)).revokedAt).toBe(first.revokedAt);
    const audits = await adminSql()`select details from audit_log where action = 'app.secret_revoked' and subject = ${app.appId}`;
    expect(audits.map((a) => a.details)).toEqual([{ secretId: app.secretId }]);
  });

  it('revokes the last secret too, locking the app out until a rotation gives it a new one', async () => {
    const app = await newApp();
    const res = await api.admin('POST', `/admin/apps/${app.appId}/secrets/${app.secretId}/revoke`);
    expect((await json<{ activeSecretIds: string[] }>(res)).activeSecretIds).toEqual([]);
    expect(await statusWith(app.appId, app.secret)).toBe(401);
    const fresh = await rotate(app.appId);
    expect(await statusWith(app.appId, fresh.secret)).toBe(200);
  });

  it('answers 404 for a secret of another app, 400 for an id that is not a secret id, and lists secrets without values', async () => {
    const a = await newApp();
    const b = await newApp();
    expect((await api.admin('POST', `/admin/apps/${a.appId}/secrets/${b.secretId}/revoke`)).status).toBe(404);
    expect((await api.admin('POST', `/admin/apps/${a.appId}/secrets/not-a-uuid/revoke`)).status).toBe(400);
    const list = await json<{ secrets: Array<Record<string, unknown>> }>(await api.admin('GET', `/admin/apps/${a.appId}/secrets`));
    expect(list.secrets).toEqual([{ secretId: a.secretId, createdAt: expect.any(String), revokedAt: null }]);
  });
});

describe('revocation across api processes', () => {
  it('drops the revoked secret from another process cache at once, long before its TTL', async () => {
    const app = await newApp();
    const next = await rotate(app.appId);
    // Another api process: its own cache, a TTL far longer than the test, listening for changes.
    const other = new AppDirectory(appSql(), TEST_SECRETS_KEY, { secretsTtlMs: 600_000, connectedTtlMs: 600_000, negativeTtlMs: 600_000, entriesMax: 100 });
    const unlisten = await other.listenForSecretChanges(appSql());
    try {
      expect((await other.activeSecrets(app.appId)).map((s) => s.id).sort()).toEqual([app.secretId, next.secretId].sort());
      const out: string[] = [];
      expect(await appsCommand(['revoke-secret', app.appId, app.secretId], { sql: appSql(), out: (t) => out.push(t) })).toBe(0);
      expect(out.join('')).toContain('revoked');
      await until(async () => (await other.activeSecrets(app.appId)).every((s) => s.id !== app.secretId), { timeoutMs: 5_000, what: 'the revocation to reach the other process' });
    } finally {
      await unlisten();
    }
  });
});

describe('npm run cli -- apps', () => {
  it('lists secrets, and answers usage errors with 64 and unknown apps with 65', async () => {
    const app = await newApp();
    const out: string[] = [];
    const err: string[] = [];
    const io = { sql: appSql(), out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
    expect(await appsCommand(['secrets', app.appId], io)).toBe(0);
    expect(out.join('')).toContain(`${app.secretId}  created`);
    expect(await appsCommand(['revoke-secret', app.appId], io)).toBe(64);
    expect(await appsCommand(['secrets', uniqueId('ghost')], io)).toBe(65);
    expect(err.join('')).toContain('was not found');
  });
});
