/** Applying a catalog file (and `catalog apply` on the command line) is idempotent, all-or-nothing, and keeps the seed prices. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { applyCatalog, parseCatalogFile } from '../../src/catalog/catalog-file.js';
import { getLatestPlanVersion } from '../../src/catalog/plan-versions.js';
import { catalogCommand } from '../../src/cli/catalog.js';
import { ratePlanCharges } from '../../src/pricing/plan-charges.js';
import { PROJECT_ROOT } from '../../src/shared/paths.js';
import { adminSql, appSql } from '../helpers/context.js';

const DEMO = readFileSync(join(PROJECT_ROOT, 'catalog', 'plans.yaml'), 'utf8');

/** The demo catalog with plan codes of this test only, so every test starts from plans that do not exist. */
function demoWithFreshCodes(): { text: string; codes: string[] } {
  const suffix = randomBytes(4).toString('hex');
  const codes = ['free', 'pro', 'standard', 'enterprise'].map((c) => `${c}-${suffix}`);
  return { text: DEMO.replace(/^(\s+- code: )(\w+)$/gm, `$1$2-${suffix}`), codes };
}

async function versionsOf(codes: string[]): Promise<number> {
  const [row] = await adminSql()<{ n: number }[]>`select count(*)::int as n from plan_versions where plan_code = any(${codes}::text[])`;
  return row!.n;
}

describe('applying a catalog file', () => {
  it('publishes each plan once; applying the same file again changes nothing', async () => {
    const { text, codes } = demoWithFreshCodes();
    const first = await applyCatalog(appSql(), parseCatalogFile(text), 'test');
    expect(first.map((o) => [o.code, o.versionId, o.created])).toEqual(codes.map((c) => [c, `${c}-v1`, true]));
    const second = await applyCatalog(appSql(), parseCatalogFile(text), 'test');
    expect(second.every((o) => !o.created)).toBe(true);
    expect(await versionsOf(codes)).toBe(4);
  });

  it('publishes a new version only of the plans that changed', async () => {
    const { text, codes } = demoWithFreshCodes();
    await applyCatalog(appSql(), parseCatalogFile(text), 'test');
    const cheaper = text.replace('baseFee: 99', 'baseFee: 89');
    const outcomes = await applyCatalog(appSql(), parseCatalogFile(cheaper), 'test');
    expect(outcomes.filter((o) => o.created).map((o) => o.versionId)).toEqual([`${codes[2]}-v2`]);
    expect((await getLatestPlanVersion(appSql(), codes[2]!)).baseFee).toBe('89');
  });

  it('writes nothing in a dry run', async () => {
    const { text, codes } = demoWithFreshCodes();
    const outcomes = await applyCatalog(appSql(), parseCatalogFile(text), 'test', { dryRun: true });
    expect(outcomes.every((o) => o.created)).toBe(true);
    expect(await versionsOf(codes)).toBe(0);
  });

  it('gives the demo Standard plan the seed prices for base fee, seats, storage and LLM tokens', () => {
    const standard = parseCatalogFile(DEMO).plans.find((p) => p.code === 'standard')!;
    const charges = ratePlanCharges(standard, {
      seats: '27',
      counters: [
        { meter: 'storage.bytes', dimensions: {}, quantity: '105000000000' },
        { meter: 'llm.input_tokens', dimensions: { provider: 'openai', model: 'gpt-5' }, quantity: '1500000' },
      ],
    });
    // seeds/003: $99 + 2 seats × $5 + 5 GB × $0.50 + 500K tokens × $0.01/1K.
    expect(charges.amount.toFixed()).toBe('116.5');
  });
});

describe('npm run cli -- catalog apply', () => {
  const run = async (args: string[]) => {
    let out = '';
    let err = '';
    const code = await catalogCommand(args, { sql: appSql(), out: (t) => (out += t), err: (t) => (err += t) });
    return { code, out, err };
  };
  const file = (text: string) => {
    const path = join(mkdtempSync(join(tmpdir(), 'catalog-')), 'plans.yaml');
    writeFileSync(path, text);
    return path;
  };

  it('applies a file and reports each plan, then reports them unchanged', async () => {
    const { text, codes } = demoWithFreshCodes();
    const path = file(text);
    const first = await run(['apply', path]);
    expect(first.code).toBe(0);
    expect(first.out).toContain(`${codes[0]}: published ${codes[0]}-v1`);
    expect(first.out).toContain('4 of 4 plans changed');
    const second = await run(['apply', path]);
    expect(second.out).toContain('0 of 4 plans changed');
  });

  it('exits 65 listing every bad field, and writes nothing', async () => {
    const code = `bad-${randomBytes(4).toString('hex')}`;
    const bad = await run(['apply', file(`plans:\n  - { code: ${code}, name: Bad, currency: XXX, interval: month, baseFee: -1 }\n`)]);
    expect(bad.code).toBe(65);
    expect(bad.err).toContain('plans.0.currency');
    expect(bad.err).toContain('plans.0.baseFee');
    expect(await versionsOf([code])).toBe(0);
  });

  it('exits 66 for a missing file and 64 for a wrong command line', async () => {
    expect((await run(['apply', '/nonexistent/plans.yaml'])).code).toBe(66);
    expect((await run(['publish'])).code).toBe(64);
    expect((await run(['apply', 'x.yaml', '--force'])).code).toBe(64);
  });
});
