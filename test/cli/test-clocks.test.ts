/** The operator CLI drives test clocks and subscriptions through the running api, with the admin token. */
import { beforeAll, describe, expect, it } from 'vitest';
import { startHttpApi, startWorker, TEST_ADMIN_TOKEN } from '../helpers/context.js';
import { adminApi, type AdminApi } from '../../src/cli/admin-api.js';
import type { CliEnvironment } from '../../src/cli/environment.js';
import { testClocksCommand } from '../../src/cli/test-clocks.js';
import { subscriptionsCommand } from '../../src/cli/subscriptions.js';

let api: AdminApi;

beforeAll(async () => {
  const { taskQueue } = await startWorker();
  const { baseUrl } = await startHttpApi({ taskQueue });
  api = adminApi({ apiUrl: baseUrl, adminToken: TEST_ADMIN_TOKEN, temporalUiUrl: null, hint: 'test' } as CliEnvironment);
});

async function run(command: typeof testClocksCommand, args: string[]) {
  let out = '';
  let err = '';
  const code = await command(args, { api, out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

describe('npm run cli -- test-clocks', () => {
  it('creates, shows and advances a clock, and refuses moving it back', async () => {
    const created = await run(testClocksCommand, ['create', '--frozen-time', '2030-03-01T00:00:00Z', '--name', 'cli clock']);
    expect(created.code).toBe(0);
    const id = /^(clock_\w+)/.exec(created.out)![1]!;
    expect(created.out).toContain('2030-03-01T00:00:00.000Z ready');
    expect((await run(testClocksCommand, ['show', id])).out).toContain('(cli clock)');
    const advanced = await run(testClocksCommand, ['advance', id, '2030-04-01T00:00:00Z']);
    expect(advanced.code).toBe(0);
    expect(advanced.out).toContain('settled after 1 step(s)');
    const back = await run(testClocksCommand, ['advance', id, '2030-01-01T00:00:00Z']);
    expect(back.code).toBe(65);
    expect(back.err).toContain('to: must be after');
    expect((await run(testClocksCommand, ['advance', id])).code).toBe(64);
  });

  it('subscriptions create names the refused fields', async () => {
    const res = await run(subscriptionsCommand, ['create', 'team_nope', 'pro', '--collection', 'charge_automatically', '--days-until-due', '5']);
    expect(res.code).toBe(65);
    expect(res.err).toContain('404');
    expect((await run(subscriptionsCommand, ['create', 'team_x'])).code).toBe(64);
  });
});
