/**
 * `GET /docs`: the API reference (Swagger UI over /openapi.json), served entirely from this process:
 * its assets come from the `swagger-ui-dist` package, so the page works without internet. The page has
 * no inline script and no other origin, so its Content-Security-Policy (security-headers.ts, built from
 * the page) lets it load only these assets and talk only to this api.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import { AppError } from '../../shared/errors.js';
import type { ApiEnv } from '../deps.js';
import { docsContentSecurityPolicy } from '../security-headers.js';

const SWAGGER_UI_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** The only files served from the package, with their content types. */
const ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};
const ASSET_MAX_AGE_SECONDS = 3_600;

// An inline script would need 'unsafe-inline' in the policy; the page's own script is a file too.
const INIT_SCRIPT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true, validatorUrl: null });\n`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Billing &amp; usage ledger API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/init.js"></script>
</body>
</html>
`;

const cache = new Map<string, Promise<Buffer>>();
function asset(name: string): Promise<Buffer> {
  let content = cache.get(name);
  if (!content) {
    content = readFile(join(SWAGGER_UI_DIR, name));
    cache.set(name, content);
  }
  return content;
}

export const docs = new Hono<ApiEnv>()
  .get('/', docsContentSecurityPolicy, (c) => c.html(PAGE))
  .get('/assets/init.js', (c) => c.body(INIT_SCRIPT, 200, { 'content-type': 'text/javascript; charset=utf-8' }))
  .get('/assets/:file', async (c) => {
    const file = c.req.param('file');
    const type = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (!type) throw new AppError('not_found', `No docs asset ${file}`);
    return c.body(new Uint8Array(await asset(file)), 200, { 'content-type': type, 'cache-control': `public, max-age=${ASSET_MAX_AGE_SECONDS}` });
  });
