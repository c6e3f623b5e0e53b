/**
 * provisionTeam against the real dev server and stripe-mock: one Stripe customer per team, created
 * with a key derived from the team, stored once, whatever is retried or requested twice.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { appSql, services, startWorker, temporalClient, testApi, testStripe, uniqueId, until, type TestApi } from '../helpers/context.js';
import { recordedStripeRequests } from '../helpers/stripe-recorder.js';
import { provisionTeam } from '../../src/workflows/provision-team.js';

let api: TestApi;
let taskQueue: string;

beforeAll(async () => {
  ({ taskQueue } = await startWorker());
  api = await testApi({ taskQueue });
});

async function storedCustomer(teamId: string): Promise<string | undefined> {
  const rows = await appSql()<{ stripe_customer_id: string }[]>`select stripe_customer_id from billing_customers where team_id = ${teamId}`;
  expect(rows.length).toBeLessThanOrEqual(1);
  return rows[0]?.stripe_customer_id;
}

describe('provisionTeam', () => {
  it('creates one Stripe customer for a new team, keyed by the team, and stores its id', async () => {
    const teamId = uniqueId('team');
    const res = await api.admin('POST', '/admin/teams', { teamId, name: 'Acme', kind: 'shared', externalRef: uniqueId('ext') });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { provisioningWorkflowId: string }).provisioningWorkflowId).toBe(`team:${teamId}:provision`);

    const customerId = await until(() => storedCustomer(teamId), { what: 'stored Stripe customer' });
    expect(customerId).toMatch(/^cus_/);
    const calls = await recordedStripeRequests(services.stripeRecorderUrl, { path: '/v1/customers', contains: teamId });
    expect(calls.map((c) => c.idempotencyKey)).toEqual([`team:${teamId}:stripe-customer`]);
    expect(calls[0]!.body).toContain(`metadata[team_id]=${teamId}`);
  });

  it('does not create a second customer when the team is requested again', async () => {
    const teamId = uniqueId('team');
    const body = { teamId, name: 'Twice', kind: 'personal' };
    expect((await api.admin('POST', '/admin/teams', body)).status).toBe(201);
    const first = await until(() => storedCustomer(teamId));
    const again = await api.admin('POST', '/admin/teams', body);
    expect(again.status).toBe(200);
    const client = await temporalClient();
    await client.workflow.getHandle(`team:${teamId}:provision`).result();
    expect(await storedCustomer(teamId)).toBe(first);
    expect(await recordedStripeRequests(services.stripeRecorderUrl, { path: '/v1/customers', contains: teamId })).toHaveLength(1);
  });

  it('retries a Stripe call that failed after reaching Stripe with the same idempotency key', async () => {
    const teamId = uniqueId('team');
    await appSql()`insert into teams (id, name, kind, currency, request_hash) values (${teamId}, 'Flaky', 'shared', 'USD', '\\x00')`;
    const real = createActivities({ sql: appSql(), stripe: testStripe() });
    let attempts = 0;
    const flaky = {
      ...real,
      // The request reaches Stripe, then the worker "loses" the answer, as in a crash or timeout.
      createStripeCustomer: async (input: { teamId: string; idempotencyKey: string }) => {
        attempts++;
        const result = await real.createStripeCustomer(input);
        if (attempts === 1) throw new Error('connection reset after Stripe answered');
        return result;
      },
    };
    const worker = await startWorker({ activities: flaky });
    const client = await temporalClient();
    const result = await client.workflow.execute(provisionTeam, {
      taskQueue: worker.taskQueue,
      workflowId: `team:${teamId}:provision`,
      args: [{ teamId }],
    });
    expect(attempts).toBe(2);
    const calls = await recordedStripeRequests(services.stripeRecorderUrl, { path: '/v1/customers', contains: teamId });
    expect(calls).toHaveLength(2);
    expect(new Set(calls.map((c) => c.idempotencyKey))).toEqual(new Set([`team:${teamId}:stripe-customer`]));
    expect(await storedCustomer(teamId)).toBe(result.stripeCustomerId);
    await worker.stop();
  });
});
