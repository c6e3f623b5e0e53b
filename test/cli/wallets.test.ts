/** The operator CLI shows a team's wallet, grants credit and changes its settings through the running api. */
import { beforeAll, describe, expect, it } from 'vitest';
import { adminSql, startHttpApi, TEST_ADMIN_TOKEN, uniqueId } from '../helpers/context.js';
import { adminApi, type AdminApi } from '../../src/cli/admin-api.js';
import type { CliEnvironment } from '../../src/cli/environment.js';
import { walletsCommand } from '../../src/cli/wallets.js';

let api: AdminApi;

beforeAll(async () => {
  const { baseUrl } = await startHttpApi({ taskQueue: uniqueId('cli-wallets') });
  api = adminApi({ apiUrl: baseUrl, adminToken: TEST_ADMIN_TOKEN, temporalUiUrl: null, hint: 'test' } as CliEnvironment);
});

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await walletsCommand(args, { api, out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

async function newTeam(): Promise<string> {
  const teamId = uniqueId('team');
  await adminSql()`insert into teams (id, name, kind, currency, request_hash) values (${teamId}, 'CLI wallet team', 'shared', 'USD', '\\x00')`;
  return teamId;
}

describe('npm run cli -- wallets', () => {
  it('grants credit once per key and shows the balance, the grant and the settings it changed', async () => {
    const teamId = await newTeam();
    const granted = await run(['grant', teamId, '12.5', '--source', 'promotion', '--reason', 'launch credit', '--priority', '5', '--key', `k-${teamId}`]);
    expect(granted.code).toBe(0);
    expect(granted.out).toContain('granted:');
    expect(granted.out).toContain('promotion 12.500000 left 12.500000 (active), priority 5, never expires: launch credit');
    expect(granted.out).toContain(`${teamId} USD (arrears): balance 12.500000, held 0.000000, available 12.500000`);

    const again = await run(['grant', teamId, '12.5', '--source', 'promotion', '--reason', 'launch credit', '--priority', '5', '--key', `k-${teamId}`]);
    expect(again.out).toContain('replayed:');
    expect((await run(['show', teamId])).out).toContain('balance 12.500000');

    const changed = await run(['settings', teamId, '--billing-mode', 'wallet', '--overdraft-limit', '3']);
    expect(changed.code).toBe(0);
    expect(changed.out).toContain(`${teamId} USD (wallet): balance 12.500000`);
    expect(changed.out).toContain('overdraft 0.000000 of 3.000000');
  });

  it('names the refused field and grants nothing, and answers usage errors with 64', async () => {
    const teamId = await newTeam();
    const bad = await run(['grant', teamId, '-4', '--source', 'manual', '--reason', 'oops']);
    expect(bad.code).toBe(65);
    expect(bad.err).toContain('amount');
    const [row] = await adminSql()<{ n: number }[]>`select count(*)::int as n from credit_grants where team_id = ${teamId}`;
    expect(row!.n).toBe(0);
    expect((await run(['grant', teamId, '5', '--reason', 'no source'])).code).toBe(64);
    expect((await run(['settings', teamId])).code).toBe(64);
    expect((await run(['show'])).code).toBe(64);
  });
});
