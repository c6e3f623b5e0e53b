/**
 * What every response says about itself: nosniff everywhere, no-store (above all on secrets), a CSP on
 * the docs page that lets only its own scripts run, a credential for /metrics, and 405 with Allow
 * for a known path asked with a method it does not have.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { testApi, TEST_ADMIN_TOKEN, uniqueId, type TestApi } from '../helpers/context.js';

let api: TestApi;

beforeAll(async () => {
  api = await testApi({ taskQueue: uniqueId('headers') });
});

describe('X-Content-Type-Options and Cache-Control', () => {
  it.each([
    ['a JSON answer', 'GET', '/health/live', 200],
    ['an authentication problem', 'POST', '/admin/apps', 401],
    ['an unknown route', 'GET', '/v1/nowhere', 404],
    ['a method a path does not have', 'DELETE', '/health/live', 405],
    ['the OpenAPI document', 'GET', '/openapi.json', 200],
    ['the docs page', 'GET', '/docs', 200],
  ])('sends nosniff and no-store on %s', async (_what, method, path, status) => {
    const res = await api.request(method, path);
    expect(res.status).toBe(status);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('sends no-store on the responses that carry an app secret', async () => {
    const appId = uniqueId('app');
    const created = await api.admin('POST', '/admin/apps', { appId, name: 'Secretive' });
    expect((await created.json()) as { secret: string }).toMatchObject({ secret: expect.stringMatching(/^bsk_/) });
    expect(created.headers.get('cache-control')).toBe('no-store');
    const rotated = await api.admin('POST', `/admin/apps/${appId}/secrets/rotate`);
    expect(rotated.status).toBe(201);
    expect(rotated.headers.get('cache-control')).toBe('no-store');
  });
});

describe('the docs page', () => {
  it('carries a Content-Security-Policy that lets only its own script files run, nothing inline', async () => {
    const res = await api.request('GET', '/docs');
    const html = await res.text();
    const csp = res.headers.get('content-security-policy') ?? '';
    // The page's scripts are files served by the api (src/api/routes/docs.ts); an inline one would need its hash.
    const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    expect(inline).toEqual([]);
    const scriptSrc = csp.split('; ').find((d) => d.startsWith('script-src '))!;
    for (const script of inline) expect(scriptSrc).toContain(`'sha256-${createHash('sha256').update(script).digest('base64')}'`);
    expect(scriptSrc).not.toContain("'unsafe-inline'");
    expect(scriptSrc).not.toContain("'unsafe-eval'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
  });

  it('sends no CSP on JSON answers, which no browser renders', async () => {
    expect((await api.request('GET', '/openapi.json')).headers.get('content-security-policy')).toBeNull();
  });
});

describe('GET /metrics', () => {
  it('needs a credential: 401 without, 200 with the admin token or METRICS_TOKEN, 401 with another', async () => {
    expect((await api.request('GET', '/metrics')).status).toBe(401);
    const withAdmin = await api.request('GET', '/metrics', { token: TEST_ADMIN_TOKEN });
    expect(withAdmin.status).toBe(200);
    expect(await withAdmin.text()).toContain('http_request_duration_seconds');
    api.deps.metricsToken = 'metrics-scrape-token-0123456789';
    try {
      expect((await api.request('GET', '/metrics', { token: 'metrics-scrape-token-0123456789' })).status).toBe(200);
      expect((await api.request('GET', '/metrics', { token: 'metrics-scrape-token-wrong-00000' })).status).toBe(401);
      // The scrape credential opens nothing else.
      expect((await api.request('GET', `/admin/teams/${uniqueId('team')}`, { token: 'metrics-scrape-token-0123456789' })).status).toBe(401);
    } finally {
      api.deps.metricsToken = undefined;
    }
  });
});

describe('405 Method Not Allowed', () => {
  it.each([
    ['DELETE', '/admin/apps', 'POST'],
    ['GET', '/webhooks/stripe', 'POST'],
    ['POST', '/health/live', 'GET, HEAD'],
    ['PUT', '/v1/teams/team_x/subscription/seats', 'POST'],
    ['PATCH', '/admin/plans', 'POST, GET, HEAD'],
    ['POST', '/openapi.json', 'GET, HEAD'],
  ])('answers %s %s with 405, Allow: %s and a problem', async (method, path, allow) => {
    const res = await api.request(method, path, { token: TEST_ADMIN_TOKEN });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')?.split(', ').sort()).toEqual(allow.split(', ').sort());
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(((await res.json()) as { code: string }).code).toBe('method_not_allowed');
  });

  it('still answers 404 for a path that exists with no method', async () => {
    expect((await api.request('GET', '/v1/teams/team_x/nothing')).status).toBe(404);
  });
});
