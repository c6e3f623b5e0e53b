/**
 * The docs page works without internet: every script, style and icon it loads is served by the api
 * itself (from the swagger-ui-dist package), under a Content-Security-Policy that allows nothing else.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { testApi, type TestApi } from '../helpers/context.js';

let api: TestApi;
beforeAll(async () => {
  api = await testApi({ taskQueue: 'docs' });
});

describe('the docs page', () => {
  it('loads Swagger UI only from this api, under a strict Content-Security-Policy', async () => {
    const page = await api.request('GET', '/docs');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp.split('; ')).toContain("script-src 'self'"); // this origin's files only: no inline code, no eval
    expect(csp).toMatch(/connect-src 'self'/);
    expect(html).not.toMatch(/<script>|<style>|\son\w+=/); // no inline code for the policy to block

    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(urls.sort()).toEqual(['/docs/assets/favicon-32x32.png', '/docs/assets/init.js', '/docs/assets/swagger-ui-bundle.js', '/docs/assets/swagger-ui.css']);
    for (const url of urls) expect((await api.request('GET', url)).status, url).toBe(200);

    const dir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
    const bundle = await api.request('GET', '/docs/assets/swagger-ui-bundle.js');
    expect(bundle.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(Buffer.from(await bundle.arrayBuffer()).equals(readFileSync(join(dir, 'swagger-ui-bundle.js')))).toBe(true);
    const init = await (await api.request('GET', '/docs/assets/init.js')).text();
    expect(init).toContain("url: '/openapi.json'");
  });

  it('documents the invoice preview and the rounding rule of invoice cents', async () => {
    const doc = (await (await api.request('GET', '/openapi.json')).json()) as {
      paths: Record<string, { get?: { description?: string } }>;
      components: { schemas: Record<string, { description?: string }> };
    };
    expect(doc.paths['/v1/teams/{teamId}/invoices/upcoming']?.get?.description).toMatch(/cents half-up/);
    expect(doc.components.schemas.Invoice?.description).toMatch(/ledger scale .* half-even/);
    expect(Object.keys(doc.paths)).toContain('/admin/apps/{appId}');
  });

  it('serves no other file of the package or the disk', async () => {
    for (const path of ['/docs/assets/package.json', '/docs/assets/..%2F..%2Fpackage.json', '/docs/assets/index.html']) {
      const res = await api.request('GET', path);
      expect(res.status, path).toBe(404);
    }
  });
});
