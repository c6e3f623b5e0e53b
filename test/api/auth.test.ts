/**
 * The app-token rejection matrix: every way a token can be wrong gets its own status and stable
 * code, and nothing is read for a rejected request.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { testApi, uniqueId, type TestApi } from '../helpers/context.js';
import { appToken, tokenWithHeader } from '../helpers/tokens.js';

let api: TestApi;
let appId: string;
let secret: string;
let teamId: string;
let otherTeamId: string;

async function expectProblem(res: Response, status: number, code: string): Promise<void> {
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  const body = (await res.json()) as { code: string; status: number };
  expect({ status: res.status, code: body.code }).toEqual({ status, code });
}

const read = (token?: string, team = teamId) => api.request('GET', `/v1/teams/${team}`, token ? { token } : {});

beforeAll(async () => {
  api = await testApi({ taskQueue: 'auth-tests-unused' });
  appId = uniqueId('app');
  teamId = uniqueId('team');
  otherTeamId = uniqueId('team');
  const created = (await (await api.admin('POST', '/admin/apps', { appId, name: 'Auth test app' })).json()) as { secret: string };
  secret = created.secret;
  // Teams are created straight in Postgres: these tests are about tokens, not provisioning.
  for (const id of [teamId, otherTeamId]) {
    await api.deps.sql`insert into teams (id, name, kind, currency, request_hash) values (${id}, 'T', 'shared', 'USD', '\\x00')`;
  }
  await api.deps.sql`insert into team_apps (team_id, app_id) values (${teamId}, ${appId})`;
});

describe('app token authentication', () => {
  it('accepts a valid HS256 token for a connected team with the needed scope', async () => {
    const res = await read(await appToken({ appId, secret, teamId, scopes: ['teams:read'] }));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { teamId: string }).teamId).toBe(teamId);
  });

  it('rejects a request without a token with 401 token_missing', async () => {
    await expectProblem(await read(), 401, 'token_missing');
  });

  it('rejects a token that is not a JWT with 401 token_malformed', async () => {
    await expectProblem(await read('not-a-jwt'), 401, 'token_malformed');
  });

  it('rejects alg none with 401 token_algorithm_not_allowed', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = tokenWithHeader({ alg: 'none', typ: 'JWT' }, { appId, teamId, scopes: ['teams:read'], iat: now, exp: now + 60 });
    await expectProblem(await read(token), 401, 'token_algorithm_not_allowed');
  });

  it('rejects an HS512 token signed with the right secret with 401 token_algorithm_not_allowed', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ appId, teamId, scopes: ['teams:read'] })
      .setProtectedHeader({ alg: 'HS512' })
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(new TextEncoder().encode(secret));
    await expectProblem(await read(token), 401, 'token_algorithm_not_allowed');
  });

  it('rejects a token of an unknown app with 401 app_unknown', async () => {
    await expectProblem(await read(await appToken({ appId: uniqueId('ghost'), secret, teamId, scopes: ['teams:read'] })), 401, 'app_unknown');
  });

  it('rejects a token signed with a wrong secret with 401 token_signature_invalid', async () => {
    const token = await appToken({ appId, secret: 'bsk_wrong_secret_wrong_secret_wrong', teamId, scopes: ['teams:read'] });
    await expectProblem(await read(token), 401, 'token_signature_invalid');
  });

  it('rejects an expired token with 401 token_expired', async () => {
    const token = await appToken({ appId, secret, teamId, scopes: ['teams:read'], iatOffsetS: -200, lifetimeS: 120 });
    await expectProblem(await read(token), 401, 'token_expired');
  });

  it('accepts a token expired by less than the clock skew', async () => {
    const token = await appToken({ appId, secret, teamId, scopes: ['teams:read'], iatOffsetS: -65, lifetimeS: 60 });
    expect((await read(token)).status).toBe(200);
  });

  it('rejects a token issued in the future with 401 token_not_yet_valid', async () => {
    const token = await appToken({ appId, secret, teamId, scopes: ['teams:read'], iatOffsetS: 120, lifetimeS: 120 });
    await expectProblem(await read(token), 401, 'token_not_yet_valid');
  });

  it('rejects a token living longer than 300 s with 401 token_lifetime_too_long', async () => {
    const token = await appToken({ appId, secret, teamId, scopes: ['teams:read'], lifetimeS: 301 });
    await expectProblem(await read(token), 401, 'token_lifetime_too_long');
  });

  it('rejects a token without the route scope with 403 scope_missing', async () => {
    await expectProblem(await read(await appToken({ appId, secret, teamId, scopes: ['usage:write'] })), 403, 'scope_missing');
  });

  it('rejects a team the app is not connected to with 403 team_not_connected', async () => {
    const token = await appToken({ appId, secret, teamId: otherTeamId, scopes: ['teams:read'] });
    await expectProblem(await read(token, otherTeamId), 403, 'team_not_connected');
  });

  it('never lets a token for team A read team B (403 team_mismatch)', async () => {
    const token = await appToken({ appId, secret, teamId, scopes: ['teams:read'] });
    await expectProblem(await read(token, otherTeamId), 403, 'team_mismatch');
  });

  it('keeps the previous secret valid after a rotation and revokes the one before it', async () => {
    const rotate = async () => (await (await api.admin('POST', `/admin/apps/${appId}/secrets/rotate`)).json()) as { secret: string; activeSecretIds: string[]; revokedSecretIds: string[] };
    const second = await rotate();
    expect(second.activeSecretIds).toHaveLength(2);
    const tokenWith = (s: string) => appToken({ appId, secret: s, teamId, scopes: ['teams:read'] });
    expect((await read(await tokenWith(secret))).status).toBe(200);
    expect((await read(await tokenWith(second.secret))).status).toBe(200);

    const third = await rotate();
    expect(third.revokedSecretIds).toHaveLength(1);
    expect((await read(await tokenWith(third.secret))).status).toBe(200);
    expect((await read(await tokenWith(second.secret))).status).toBe(200);
    await expectProblem(await read(await tokenWith(secret)), 401, 'token_signature_invalid');
    const [row] = await api.deps.sql<{ active: number }[]>`
      select count(*)::int as active from app_secrets where app_id = ${appId} and revoked_at is null`;
    expect(row!.active).toBe(2);
  });
});
