/** The SDK against the api on a real socket: signed requests work, API problems arrive as typed errors. */
import { beforeAll, describe, expect, it } from 'vitest';
import { BillingApiError, createBillingClient, ERROR_CODES } from '../../sdk/src/index.js';
import { ERROR_STATUS } from '../../src/shared/error-codes.js';
import { startHttpApi, uniqueId, type TestApi } from '../helpers/context.js';

let baseUrl: string;
let api: TestApi;
let appId: string;
let secret: string;
let teamId: string;

beforeAll(async () => {
  ({ baseUrl, api } = await startHttpApi({ taskQueue: uniqueId('sdk') }));
  appId = uniqueId('app');
  teamId = uniqueId('team');
  secret = ((await (await api.admin('POST', '/admin/apps', { appId, name: 'SDK app' })).json()) as { secret: string }).secret;
  await api.deps.sql`insert into teams (id, name, kind, currency, request_hash) values (${teamId}, 'SDK team', 'shared', 'USD', '\\x00')`;
  await api.deps.sql`insert into team_apps (team_id, app_id) values (${teamId}, ${appId})`;
});

describe('billing SDK', () => {
  it('reads a connected team with a per-request signed token', async () => {
    const billing = createBillingClient({ appId, secret, baseUrl });
    const team = await billing.getTeam(teamId);
    expect(team).toMatchObject({ teamId, name: 'SDK team', appIds: [appId] });
  });

  it('throws BillingApiError with the service code for a team the app is not connected to', async () => {
    const billing = createBillingClient({ appId, secret, baseUrl });
    const err = await billing.getTeam(uniqueId('team')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BillingApiError);
    expect(err).toMatchObject({ status: 403, code: 'team_not_connected' });
  });

  it('throws token_signature_invalid with a wrong secret and does not retry a client error', async () => {
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const billing = createBillingClient({ appId, secret: 'bsk_not_the_secret', baseUrl, fetch: counting });
    await expect(billing.getTeam(teamId)).rejects.toMatchObject({ status: 401, code: 'token_signature_invalid' });
    expect(calls).toBe(1);
  });

  it('refuses to sign tokens living longer than the service accepts', () => {
    expect(() => createBillingClient({ appId, secret, baseUrl, tokenLifetimeS: 301 })).toThrow(RangeError);
  });

  it('knows every error code the service can send', () => {
    expect([...ERROR_CODES].sort()).toEqual(Object.keys(ERROR_STATUS).sort());
  });
});
