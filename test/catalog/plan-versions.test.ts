/** Publishing plan versions: idempotent by content, numbered without gaps, and immutable in Postgres for every role. */
import { describe, expect, it } from 'vitest';
import {
  getLatestPlanVersion,
  getPlanHistory,
  getPlanVersion,
  publishPlanVersion,
} from '../../src/catalog/plan-versions.js';
import { CatalogCache } from '../../src/catalog/catalog-cache.js';
import { adminSql, appSql } from '../helpers/context.js';
import { planCode, planInput as plan } from './fixtures.js';

async function versionCount(code: string): Promise<number> {
  const [row] = await adminSql()<{ n: number }[]>`select count(*)::int as n from plan_versions where plan_code = ${code}`;
  return row!.n;
}

describe('publishing a plan version', () => {
  it('creates version 1, then returns it unchanged for the same content', async () => {
    const code = planCode();
    const first = await publishPlanVersion(appSql(), plan(code), 'test');
    expect(first.created).toBe(true);
    expect(first.version).toMatchObject({ id: `${code}-v1`, planCode: code, version: 1, baseFee: '20' });

    const again = await publishPlanVersion(appSql(), plan(code, { baseFee: '20.00' }), 'test');
    expect(again).toEqual({ version: first.version, created: false });
    expect(await versionCount(code)).toBe(1);
  });

  it('publishes different content as the next version and leaves the old one as it was', async () => {
    const code = planCode();
    const v1 = (await publishPlanVersion(appSql(), plan(code), 'test')).version;
    const v2 = (await publishPlanVersion(appSql(), plan(code, { baseFee: '25' }), 'test')).version;
    expect(v2.version).toBe(2);
    expect(await getPlanVersion(appSql(), v1.id)).toEqual(v1);
    expect((await getLatestPlanVersion(appSql(), code)).id).toBe(v2.id);
    // Going back to v1's content is a change from the latest, so it is v3, not v1.
    const v3 = await publishPlanVersion(appSql(), plan(code), 'test');
    expect([v3.created, v3.version.version]).toEqual([true, 3]);
  });

  it('renames a plan without a new version', async () => {
    const code = planCode();
    await publishPlanVersion(appSql(), plan(code), 'test');
    const renamed = await publishPlanVersion(appSql(), plan(code, { name: 'Team (2025)' }), 'test');
    expect(renamed.created).toBe(false);
    const history = await getPlanHistory(appSql(), code);
    expect([history.name, history.versions.length]).toEqual(['Team (2025)', 1]);
  });

  it('answers a publish based on an outdated version with a conflict, but replays one that already succeeded', async () => {
    const code = planCode();
    await publishPlanVersion(appSql(), plan(code, { expectedLatestVersion: 0 }), 'test');
    const second = plan(code, { baseFee: '30', expectedLatestVersion: 1 });
    await publishPlanVersion(appSql(), second, 'test');
    await expect(publishPlanVersion(appSql(), plan(code, { baseFee: '40', expectedLatestVersion: 1 }), 'test')).rejects.toMatchObject({
      code: 'conflict',
      details: { latestVersion: 2 },
    });
    expect((await publishPlanVersion(appSql(), second, 'test')).created).toBe(false);
  });

  it('numbers concurrent publishes of different content 1..n without gaps or duplicates', async () => {
    const code = planCode();
    const results = await Promise.all(['1', '2', '3', '4', '5'].map((fee) => publishPlanVersion(appSql(), plan(code, { baseFee: fee }), 'test')));
    expect(results.map((r) => r.version.version).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('creates one version when the same content is published concurrently', async () => {
    const code = planCode();
    const results = await Promise.all(Array.from({ length: 4 }, () => publishPlanVersion(appSql(), plan(code), 'test')));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.version.id))).toEqual(new Set([`${code}-v1`]));
  });

  it('answers unknown plans and versions with not_found', async () => {
    await expect(getLatestPlanVersion(appSql(), planCode())).rejects.toMatchObject({ code: 'not_found' });
    await expect(getPlanVersion(appSql(), `${planCode()}-v1`)).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('published versions in Postgres', () => {
  it('cannot be changed or deleted by the application role, which lacks the privilege', async () => {
    const { version } = await publishPlanVersion(appSql(), plan(planCode()), 'test');
    await expect(appSql()`update plan_versions set content = '{}' where id = ${version.id}`).rejects.toMatchObject({ code: '42501' });
    await expect(appSql()`delete from plan_versions where id = ${version.id}`).rejects.toMatchObject({ code: '42501' });
  });

  it('cannot be changed, deleted or truncated even by the owner: a trigger rejects it', async () => {
    const { version } = await publishPlanVersion(appSql(), plan(planCode()), 'test');
    await expect(adminSql()`update plan_versions set published_by = 'someone' where id = ${version.id}`).rejects.toThrow(/immutable/);
    await expect(adminSql()`delete from plan_versions where id = ${version.id}`).rejects.toThrow(/immutable/);
    // In a transaction that is rolled back either way, so a missing trigger cannot wipe the shared database.
    await expect(
      adminSql().begin(async (tx) => {
        await tx`truncate plan_versions cascade`;
        throw new Error('truncate was allowed');
      }),
    ).rejects.toThrow(/immutable/);
    expect(await getPlanVersion(appSql(), version.id)).toEqual(version);
  });

  it('refuses a version that skips a number', async () => {
    const code = planCode();
    const { version } = await publishPlanVersion(appSql(), plan(code), 'test');
    await expect(adminSql()`
      insert into plan_versions (id, plan_code, version, currency, interval, content, content_hash, published_by)
      select ${`${code}-v3`}, plan_code, 3, currency, interval, content, content_hash, 'test' from plan_versions where id = ${version.id}`).rejects.toThrow(/not the next version/);
  });
});

describe('the catalog cache', () => {
  it('serves a version by id from memory once read, and sees a new latest version after invalidation', async () => {
    const code = planCode();
    await publishPlanVersion(appSql(), plan(code), 'test');
    const cache = new CatalogCache(appSql(), { versionsMax: 2, latestTtlMs: 60_000 });
    const v1 = await cache.latest(code);
    await publishPlanVersion(appSql(), plan(code, { baseFee: '21' }), 'test');
    expect((await cache.latest(code)).id).toBe(v1.id);
    cache.invalidatePlan(code);
    expect((await cache.latest(code)).version).toBe(2);
    expect(await cache.version(v1.id)).toBe(await cache.version(v1.id));
  });
});
