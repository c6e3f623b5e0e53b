/** Operator routes for apps: register (the secret is shown once) and rotate secrets. */
import { createRoute, z } from '@hono/zod-openapi';
import { registerApp, rotateAppSecret } from '../../platform/apps.js';
import { requireAdmin } from '../auth/admin.js';
import { IdSchema, problemResponses, router } from '../openapi.js';

const AppInput = z
  .object({
    appId: IdSchema.openapi({ example: 'app_receipts' }),
    name: z.string().min(1).max(200).openapi({ example: 'ReceiptsInOrder' }),
  })
  .strict()
  .openapi('AppInput');

const App = z
  .object({
    appId: z.string(),
    name: z.string(),
    createdAt: z.string(),
    secret: z.string().nullable().openapi({ description: 'The HMAC secret; only in the response that created it' }),
    secretId: z.string().nullable().openapi({ description: 'Put it in the JWT header as `kid` to skip a lookup' }),
  })
  .openapi('App');

const RotatedSecret = z
  .object({
    appId: z.string(),
    secretId: z.string(),
    secret: z.string(),
    activeSecretIds: z.array(z.string()),
    revokedSecretIds: z.array(z.string()),
  })
  .openapi('RotatedSecret');

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
      description: 'Idempotent by appId. The response that creates the app carries its secret; replays return the app without it.',
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
      method: 'post',
      path: '/{appId}/secrets/rotate',
      tags: ['admin'],
      summary: 'Rotate an app secret',
      description: 'Creates a new secret; the previous one stays valid, older ones are revoked.',
      security,
      request: { params: z.object({ appId: IdSchema }) },
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
  );
