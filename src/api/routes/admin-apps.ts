/** Operator routes for apps: register (the secret is shown once), read, set Checkout defaults, rotate, list and revoke secrets. */
import { createRoute, z } from '@hono/zod-openapi';
import { checkoutUrlSchema as CheckoutUrl, getApp, listAppSecrets, registerApp, revokeAppSecret, rotateAppSecret, setCheckoutDefaults } from '../../platform/apps.js';
import { requireAdmin } from '../auth/admin.js';
import { IdSchema, problemResponses, router } from '../openapi.js';

const AppInput = z
  .object({
    appId: IdSchema.openapi({ example: 'app_receipts' }),
    name: z.string().min(1).max(200).openapi({ example: 'ReceiptsInOrder' }),
    checkoutSuccessUrl: CheckoutUrl.optional().openapi({
      description: 'Where Checkout returns after payment when a checkout request names no successUrl',
      example: 'https://receipts.example/billing/done?session={CHECKOUT_SESSION_ID}',
    }),
    checkoutCancelUrl: CheckoutUrl.optional().openapi({
      description: 'Where Checkout returns when the customer cancels and the request names no cancelUrl',
      example: 'https://receipts.example/billing',
    }),
  })
  .strict()
  .openapi('AppInput');

const CheckoutDefaultsInput = z
  .object({
    checkoutSuccessUrl: CheckoutUrl.nullable().optional().openapi({ description: 'A URL sets it, null clears it, absent keeps it' }),
    checkoutCancelUrl: CheckoutUrl.nullable().optional().openapi({ description: 'A URL sets it, null clears it, absent keeps it' }),
  })
  .strict()
  .openapi('CheckoutDefaultsInput');

const AppView = z
  .object({
    appId: z.string(),
    name: z.string(),
    createdAt: z.string(),
    checkoutSuccessUrl: z.string().nullable(),
    checkoutCancelUrl: z.string().nullable(),
  })
  .openapi('AppView');

const App = AppView.extend({
  secret: z.string().nullable().openapi({ description: 'The HMAC secret; only in the response that created it' }),
  secretId: z.string().nullable().openapi({ description: 'Put it in the JWT header as `kid` to skip a lookup' }),
}).openapi('App');

const RotatedSecret = z
  .object({
    appId: z.string(),
    secretId: z.string(),
    secret: z.string(),
    activeSecretIds: z.array(z.string()),
    revokedSecretIds: z.array(z.string()),
  })
  .openapi('RotatedSecret');

const SecretInfo = z
  .object({ secretId: z.string(), createdAt: z.string(), revokedAt: z.string().nullable() })
  .openapi('AppSecretInfo', { description: 'A secret without its value' });

const RevokedSecret = z
  .object({ appId: z.string(), secretId: z.string(), revokedAt: z.string(), activeSecretIds: z.array(z.string()) })
  .openapi('RevokedSecret');

const AppIdParam = z.object({ appId: IdSchema.openapi({ param: { name: 'appId', in: 'path' }, example: 'app_receipts' }) });
const SecretParams = AppIdParam.extend({
  secretId: z.uuid().openapi({ param: { name: 'secretId', in: 'path' }, description: 'As listed by GET /admin/apps/{appId}/secrets or returned by a rotation' }),
});

const security = [{ adminBearer: [] }];

export const adminApps = router();
adminApps.use('*', requireAdmin);

adminApps
  .openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['admin'],
      summary: 'Register an app',
      description:
        'Idempotent by appId. The response that creates the app carries its secret; replays return the app without it. `checkoutSuccessUrl` and `checkoutCancelUrl` are the defaults of its checkout requests.',
      security,
      request: { body: { content: { 'application/json': { schema: AppInput } }, required: true } },
      responses: {
        201: { description: 'Created', content: { 'application/json': { schema: App } } },
        200: { description: 'Replay of an earlier registration', content: { 'application/json': { schema: App } } },
        ...problemResponses,
      },
    }),
    async (c) => {
      const { sql, secretsKey } = c.get('deps');
      const created = await registerApp(sql, secretsKey, c.req.valid('json'), 'admin');
      const { replayed, ...body } = created;
      if (replayed) c.header('Idempotency-Replayed', 'true');
      return c.json(body, replayed ? 200 : 201);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/{appId}',
      tags: ['admin'],
      summary: 'Read an app',
      security,
      request: { params: AppIdParam },
      responses: { 200: { description: 'The app', content: { 'application/json': { schema: AppView } } }, ...problemResponses },
    }),
    async (c) => c.json(await getApp(c.get('deps').sql, c.req.valid('param').appId), 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/{appId}',
      tags: ['admin'],
      summary: "Set an app's Checkout defaults",
      description: 'The success and cancel URLs its checkout requests use when they name none. Idempotent: the same values change nothing.',
      security,
      request: { params: AppIdParam, body: { content: { 'application/json': { schema: CheckoutDefaultsInput } }, required: true } },
      responses: { 200: { description: 'The app as it now is', content: { 'application/json': { schema: AppView } } }, ...problemResponses },
    }),
    async (c) => c.json(await setCheckoutDefaults(c.get('deps').sql, c.req.valid('param').appId, c.req.valid('json'), 'admin'), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/{appId}/secrets/rotate',
      tags: ['admin'],
      summary: 'Rotate an app secret',
      description: 'Creates a new secret; the previous one stays valid (the grace period of the roll-over), older ones are revoked. A leaked secret is revoked at once with POST /admin/apps/{appId}/secrets/{secretId}/revoke.',
      security,
      request: { params: AppIdParam },
      responses: {
        201: { description: 'Rotated', content: { 'application/json': { schema: RotatedSecret } } },
        ...problemResponses,
      },
    }),
    async (c) => {
      const { sql, secretsKey, directory } = c.get('deps');
      const { appId } = c.req.valid('param');
      const rotated = await rotateAppSecret(sql, secretsKey, appId, 'admin');
      directory.invalidateApp(appId);
      return c.json(rotated, 201);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/{appId}/secrets',
      tags: ['admin'],
      summary: "List an app's secrets (ids and dates, never values)",
      security,
      request: { params: AppIdParam },
      responses: { 200: { description: 'Newest first', content: { 'application/json': { schema: z.object({ appId: z.string(), secrets: z.array(SecretInfo) }) } } }, ...problemResponses },
    }),
    async (c) => {
      const { appId } = c.req.valid('param');
      return c.json({ appId, secrets: await listAppSecrets(c.get('deps').sql, appId) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/{appId}/secrets/{secretId}/revoke',
      tags: ['admin'],
      summary: 'Revoke a secret now (e.g. a leaked one)',
      description: [
        'Tokens signed with the secret are refused from now on, by every api process (they drop their cached secrets on a Postgres notification).',
        'Unlike a rotation, which keeps the previous secret valid, this needs no grace period; rotate first to give the app a new secret,',
        'or revoke the last one to lock the app out until it gets one. Idempotent: revoking a revoked secret answers 200 with',
        '`Idempotency-Replayed: true` and its first revocation. Recorded in the audit log. CLI: `npm run cli -- apps revoke-secret <appId> <secretId>`.',
      ].join(' '),
      security,
      request: { params: SecretParams },
      responses: { 200: { description: 'Revoked', content: { 'application/json': { schema: RevokedSecret } } }, ...problemResponses },
    }),
    async (c) => {
      const { sql, directory } = c.get('deps');
      const { appId, secretId } = c.req.valid('param');
      const { replayed, ...revoked } = await revokeAppSecret(sql, appId, secretId, 'admin');
      directory.invalidateApp(appId);
      if (replayed) c.header('Idempotency-Replayed', 'true');
      return c.json(revoked, 200);
    },
  );
