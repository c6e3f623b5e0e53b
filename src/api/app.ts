/**
 * The HTTP application: middleware (request ids, access log, metrics, security headers, connection
 * handling, 405 for known paths, body limit), the routes of each capability, the OpenAPI document and
 * its docs page, and the single error mapper.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { requestId } from 'hono/request-id';
import { routePath } from 'hono/route';
import { AppError } from '../shared/errors.js';
import { ERROR_TITLE, isErrorCode } from '../shared/error-codes.js';
import { LIMITS } from '../shared/limits.js';
import type { ApiDeps, ApiEnv } from './deps.js';
import type { ApiMetrics } from './metrics.js';
import { isServerError, problemResponse, toAppError } from './problem.js';
import { validationHook } from './openapi.js';
import { health } from './routes/health.js';
import { adminApps } from './routes/admin-apps.js';
import { adminTeams } from './routes/admin-teams.js';
import { adminSubscriptions } from './routes/admin-subscriptions.js';
import { adminTestClocks } from './routes/admin-test-clocks.js';
import { adminPlans } from './routes/admin-plans.js';
import { plans } from './routes/plans.js';
import { teams } from './routes/teams.js';
import { checkout } from './routes/checkout.js';
import { subscription } from './routes/subscription.js';
import { invoices } from './routes/invoices.js';
import { invoicePreview } from './routes/invoice-preview.js';
import { stripeWebhookDoc, stripeWebhooks } from './routes/stripe-webhooks.js';
import { usage } from './routes/usage.js';
import { adminCostRates } from './routes/admin-cost-rates.js';
import { adminUsage } from './routes/admin-usage.js';
import { adminReports } from './routes/admin-reports.js';
import { ledger } from './routes/ledger.js';
import { wallet } from './routes/wallet.js';
import { adminWallet } from './routes/admin-wallet.js';
import { entitlements } from './routes/entitlements.js';
import { docs } from './routes/docs.js';
import { adminStripeEvents } from './routes/admin-stripe-events.js';
import { requireMetricsReader } from './auth/admin.js';
import { closeAfterUnreadBody } from './connection-close.js';
import { securityHeaders } from './security-headers.js';

export function createApp(deps: ApiDeps, metrics: ApiMetrics): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });

  app.use('*', requestId({ limitLength: 128 }));
  app.use('*', async (c, next) => {
    const started = performance.now();
    c.set('deps', deps);
    c.set('metrics', metrics);
    c.set('log', deps.log.child({ reqId: c.get('requestId') }));
    await next();
    const ms = performance.now() - started;
    const route = routePath(c);
    metrics.httpDuration.observe({ method: c.req.method, route, status: String(c.res.status) }, ms / 1000);
    c.get('log').info({ method: c.req.method, path: c.req.path, route, status: c.res.status, ms: Math.round(ms * 10) / 10 }, 'request');
  });
  app.use('*', securityHeaders);
  app.use('*', closeAfterUnreadBody);
  // A known path asked with a method it does not have: 405 naming the methods it has.
  app.use(
    '*',
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) => {
        const res = problemResponse(c, new AppError('method_not_allowed', `${c.req.method} is not allowed on ${c.req.path}; use ${methods.join(', ')}`));
        res.headers.set('Allow', methods.join(', '));
        return res;
      },
    }),
  );
  app.use(
    '*',
    bodyLimit({
      maxSize: LIMITS.requestBodyBytesMax,
      onError: () => {
        throw new AppError('payload_too_large', `The body exceeds ${LIMITS.requestBodyBytesMax} bytes (LIMITS.requestBodyBytesMax)`);
      },
    }),
  );

  app.route('/health', health);
  app.route('/admin/apps', adminApps);
  app.route('/admin/teams', adminTeams);
  app.route('/admin/teams', adminSubscriptions);
  app.route('/admin/teams', adminWallet);
  app.route('/admin/test-clocks', adminTestClocks);
  app.route('/v1/teams', teams);
  app.route('/v1/teams', checkout);
  app.route('/v1/teams', subscription);
  // Before invoices: `upcoming` is not an invoice id.
  app.route('/v1/teams', invoicePreview);
  app.route('/v1/teams', invoices);
  app.route('/webhooks', stripeWebhooks);
  app.route('/v1/teams', ledger);
  app.route('/v1/teams', wallet);
  app.route('/v1/teams', entitlements);
  app.route('/v1', usage);
  app.route('/admin/cost-rates', adminCostRates);
  app.route('/admin/usage', adminUsage);
  app.route('/admin/reports', adminReports);
  app.route('/admin/plans', adminPlans);
  app.route('/admin/stripe-events', adminStripeEvents);
  app.route('/v1/plans', plans);

  app.get('/metrics', requireMetricsReader, async (c) => c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }));

  app.openAPIRegistry.registerComponent('securitySchemes', 'appJwt', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'HS256 JWT signed with the app secret; claims appId, teamId, scopes, iat, exp (exp - iat ≤ 300 s).',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'adminBearer', { type: 'http', scheme: 'bearer' });
  app.openAPIRegistry.registerPath(stripeWebhookDoc);
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Billing & usage ledger', version: '0.1.0', description: 'Errors are application/problem+json with a stable `code`.' },
    servers: [{ url: deps.publicUrl }],
  });
  app.route('/docs', docs);
  app.get('/problems/:code', (c) => {
    const code = c.req.param('code');
    if (!isErrorCode(code)) throw new AppError('not_found', `No problem type ${code}`);
    return c.json({ code, title: ERROR_TITLE[code] });
  });

  app.notFound((c) => problemResponse(c, new AppError('not_found', `No route for ${c.req.method} ${c.req.path}`)));
  app.onError((err, c) => {
    const appErr = toAppError(err);
    if (isServerError(appErr)) c.get('log')?.error({ err }, 'request failed');
    return problemResponse(c, appErr);
  });
  return app;
}
