/**
 * `npm run cli -- apps …` registers apps and sets their Checkout defaults as the operator routes do;
 * the demo seed gives the demo app defaults once and leaves an operator's later choice alone.
 */
import { describe, expect, it } from 'vitest';
import { appsCommand } from '../../src/cli/apps.js';
import { getApp, setCheckoutDefaults } from '../../src/platform/apps.js';
import { DEMO_APP_ID, DEMO_CHECKOUT_URLS, seedDemo } from '../../src/dev/seed.js';
import { appSql, adminSql, TEST_SECRETS_KEY, uniqueId } from '../helpers/context.js';

async function cli(...args: string[]) {
  let out = '';
  let err = '';
  const code = await appsCommand(args, { sql: appSql(), secretsKey: TEST_SECRETS_KEY, out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

describe('apps from the CLI', () => {
  it('registers an app with Checkout defaults, prints its secret once, and changes the defaults', async () => {
    const appId = uniqueId('app');
    const first = await cli('register', appId, 'Receipts', '--success-url', 'https://r.example/ok', '--cancel-url', 'https://r.example/no');
    expect(first).toMatchObject({ code: 0, err: '' });
    expect(first.out).toMatch(/secret: bsk_/);
    const again = await cli('register', appId, 'Receipts', '--success-url', 'https://r.example/ok', '--cancel-url', 'https://r.example/no');
    expect(again.code).toBe(0);
    expect(again.out).not.toMatch(/bsk_/);

    expect((await cli('checkout-urls', appId, '--cancel-url', 'none')).code).toBe(0);
    expect(await getApp(appSql(), appId)).toMatchObject({ checkoutSuccessUrl: 'https://r.example/ok', checkoutCancelUrl: null });
  });

  it('names bad input with exit code 65 and writes nothing', async () => {
    const appId = uniqueId('app');
    const bad = await cli('register', appId, 'Receipts', '--success-url', 'ftp://r.example/ok');
    expect(bad.code).toBe(65);
    expect(bad.err).toContain('--success-url');
    expect(await adminSql()`select 1 from apps where id = ${appId}`).toHaveLength(0);
    expect((await cli('checkout-urls', uniqueId('ghost'), '--success-url', 'https://x.example')).code).toBe(65);
    expect((await cli('frobnicate')).code).toBe(64);
  });
});

describe('the demo seed', () => {
  it("gives the demo app Checkout defaults once and keeps an operator's own", async () => {
    await seedDemo(adminSql(), TEST_SECRETS_KEY);
    expect(await getApp(appSql(), DEMO_APP_ID)).toMatchObject(DEMO_CHECKOUT_URLS);
    await setCheckoutDefaults(adminSql(), DEMO_APP_ID, { checkoutSuccessUrl: 'https://mine.example/ok' }, 'test');
    await seedDemo(adminSql(), TEST_SECRETS_KEY);
    expect(await getApp(appSql(), DEMO_APP_ID)).toMatchObject({ checkoutSuccessUrl: 'https://mine.example/ok', checkoutCancelUrl: DEMO_CHECKOUT_URLS.checkoutCancelUrl });
  });
});
