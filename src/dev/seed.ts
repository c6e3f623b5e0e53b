/**
 * The demo data of `npm start` that needs no workflow: the demo catalog (catalog/plans.yaml) and one
 * app (its secret printed so you can call the API right away, with Checkout return URLs so a checkout
 * request needs none). The demo team comes later, through the running api (demo-team.ts), because
 * putting it on a plan runs the subscription workflow. Idempotent: a second start changes nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sql } from '../shared/db.js';
import { PROJECT_ROOT } from '../shared/paths.js';
import { applyCatalog, parseCatalogFile } from '../catalog/catalog-file.js';
import { registerApp, setCheckoutDefaults } from '../platform/apps.js';

export const DEMO_APP_ID = 'app_demo';
export const DEMO_TEAM_ID = 'team_demo';

export const DEMO_CATALOG = join(PROJECT_ROOT, 'catalog', 'plans.yaml');
/** Placeholders (the .example domain is reserved): under stripe-mock no customer ever reaches them. */
export const DEMO_CHECKOUT_URLS = {
  checkoutSuccessUrl: 'https://demo.example/billing/done?session={CHECKOUT_SESSION_ID}',
  checkoutCancelUrl: 'https://demo.example/billing/canceled',
};

export async function seedDemo(sql: Sql, secretsKey: Buffer): Promise<{ appSecret: string | null; plans: string[] }> {
  const outcomes = await applyCatalog(sql, parseCatalogFile(readFileSync(DEMO_CATALOG, 'utf8')), 'seed');
  const app = await registerApp(sql, secretsKey, { appId: DEMO_APP_ID, name: 'Demo app' }, 'seed');
  // Set apart from the registration, so a data folder from before these defaults gets them too, and
  // only where unset, so an operator's own choice survives the next start.
  await setCheckoutDefaults(
    sql,
    DEMO_APP_ID,
    { checkoutSuccessUrl: app.checkoutSuccessUrl ?? DEMO_CHECKOUT_URLS.checkoutSuccessUrl, checkoutCancelUrl: app.checkoutCancelUrl ?? DEMO_CHECKOUT_URLS.checkoutCancelUrl },
    'seed',
  );
  return { appSecret: app.secret, plans: outcomes.map((o) => o.versionId) };
}
