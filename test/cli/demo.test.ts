/**
 * The demo of `npm start`: the demo team is seeded through the running api (a clock of its own, the
 * operator subscription route, the demo app's usage), a second start changes nothing, and each
 * `npm run cli -- demo` closes the next period and prints its priced invoice with the close's link.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { adminSql, services, startHttpApi, startWorker, TEST_ADMIN_TOKEN, TEST_SECRETS_KEY, TEST_TIMING } from '../helpers/context.js';
import { adminApiAt, type AdminApi } from '../../src/cli/admin-api.js';
import type { CliEnvironment } from '../../src/cli/environment.js';
import { demoCommand } from '../../src/cli/demo.js';
import { appApi } from '../../src/dev/app-api.js';
import { seedDemoTeam } from '../../src/dev/demo-team.js';
import { DEMO_APP_ID, DEMO_TEAM_ID, seedDemo } from '../../src/dev/seed.js';

let env: CliEnvironment;
let admin: AdminApi;

beforeAll(async () => {
  const { taskQueue } = await startWorker();
  const { baseUrl } = await startHttpApi({ taskQueue, timing: { ...TEST_TIMING, periodMs: null } });
  await seedDemo(adminSql(), TEST_SECRETS_KEY);
  admin = adminApiAt({ apiUrl: baseUrl, adminToken: TEST_ADMIN_TOKEN, temporalUiUrl: 'http://ui.test' });
  // Another file may have seeded the demo app first (its secret is shown once): a rotation gives one.
  const { secret } = (await admin.call<{ secret: string }>('POST', `/admin/apps/${DEMO_APP_ID}/secrets/rotate`)).body;
  env = {
    databaseUrl: null,
    adminDatabaseUrl: null,
    apiUrl: baseUrl,
    secretsKey: null,
    webhookSecret: null,
    stripeApiUrl: null,
    temporalUiUrl: 'http://ui.test',
    temporalAddress: services.temporalAddress,
    temporalNamespace: services.namespace,
    demoAppSecret: secret,
    adminToken: TEST_ADMIN_TOKEN,
    hint: 'test',
  };
});

async function demo() {
  let out = '';
  let err = '';
  const code = await demoCommand([], { env, out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

describe('the demo', () => {
  it('puts the demo team on a plan on its own clock once, however often npm start seeds it', async () => {
    const app = appApi({ baseUrl: env.apiUrl, appId: DEMO_APP_ID, secret: env.demoAppSecret! });
    const first = await seedDemoTeam(admin, app);
    expect(first).toMatchObject({ ready: true, created: true, subscription: { status: 'active', planVersionId: expect.stringMatching(/^pro-v\d+$/) } });
    const again = await seedDemoTeam(admin, app);
    expect(again).toMatchObject({ ready: true, created: false, testClockId: first.ready ? first.testClockId : '' });
    const rows = await adminSql()<{ origin: string; collection_method: string }[]>`select origin, collection_method from subscriptions where team_id = ${DEMO_TEAM_ID}`;
    expect(rows).toEqual([{ origin: 'operator', collection_method: 'send_invoice' }]);
    const [usage] = await adminSql()<{ n: number }[]>`select count(*)::int as n from usage_events where team_id = ${DEMO_TEAM_ID}`;
    expect(usage!.n).toBeGreaterThan(0);
  }, 60_000);

  it('closes the next period on each run and prints its priced invoice, ledger transaction and close workflow', async () => {
    const runs = [await demo(), await demo()];
    for (const run of runs) {
      expect(run.code, run.err).toBe(0);
      expect(run.out).toMatch(/usage reported by app_demo at \S+: [1-9]\d* accepted/);
      expect(run.out).toMatch(/Invoice inv_[0-9a-f]{24} /);
      expect(run.out).toMatch(/charged \$\d+\.\d{2}/);
      expect(run.out).toMatch(/Ledger transaction of the invoice: [0-9a-f-]{36}/);
      expect(run.out).toMatch(/Close workflow in the Temporal UI: http:\/\/ui\.test\/namespaces\/default\/workflows\/period%3Asub_\w+%3A\S+\/[0-9a-f-]{36}\/history/);
    }
    const periods = runs.map((r) => /of the period (\S+) → (\S+)/.exec(r.out)!.slice(1));
    expect(periods[1]![0]).toBe(periods[0]![1]); // the second run closed the period after the first
  }, 120_000);
});
