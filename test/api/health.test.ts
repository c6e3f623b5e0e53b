import { describe, expect, it } from 'vitest';
import { testApi } from '../helpers/context.js';

describe('health', () => {
  it('reports live, and ready when Postgres and Temporal answer', async () => {
    const api = await testApi({ taskQueue: 'health' });
    expect((await api.request('GET', '/health/live')).status).toBe(200);
    const ready = await api.request('GET', '/health/ready');
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { checks: { name: string; ok: boolean }[] };
    expect(body.checks).toEqual([
      { name: 'postgres', ok: true },
      { name: 'temporal', ok: true },
    ]);
  });

  it('reports not ready (503) when Postgres is unreachable', async () => {
    const api = await testApi({ taskQueue: 'health' });
    const { createSql } = await import('../../src/shared/db.js');
    const dead = createSql('postgres://nobody@127.0.0.1:1/none', { applicationName: 'dead', max: 1 });
    api.deps.sql = dead;
    const ready = await api.request('GET', '/health/ready');
    expect(ready.status).toBe(503);
    await dead.end({ timeout: 1 });
  });

  it('publishes an OpenAPI document that lists the routes', async () => {
    const api = await testApi({ taskQueue: 'health' });
    const doc = (await (await api.request('GET', '/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/admin/apps', '/admin/teams', '/v1/teams/{teamId}']));
  });
});
