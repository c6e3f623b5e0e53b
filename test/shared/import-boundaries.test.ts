/**
 * The import rules of eslint.boundaries.js hold on all of src/, and they catch a breach: part of
 * `npm test`, so CI enforces them even where nobody runs `npm run lint`. Only those rules run here
 * (no type information), so it takes seconds.
 */
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import boundaries from '../../eslint.boundaries.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function boundaryLinter(): ESLint {
  return new ESLint({
    cwd: ROOT,
    overrideConfigFile: true,
    overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser }, linterOptions: { reportUnusedDisableDirectives: 'off' } }, ...boundaries],
  });
}

async function breaches(code: string, filePath: string): Promise<string[]> {
  const [result] = await boundaryLinter().lintText(code, { filePath: `${ROOT}/${filePath}` });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('import boundaries', () => {
  it('hold on every file of src/', async () => {
    const results = await boundaryLinter().lintFiles(['src/**/*.ts']);
    const found = results.flatMap((r) => r.messages.map((m) => `${r.filePath.slice(ROOT.length)}:${m.line} ${m.message}`));
    expect(results.length).toBeGreaterThan(100);
    expect(found).toEqual([]);
  });

  it.each([
    ['domain code importing the HTTP layer', "import { problemBody } from '../api/problem.js';", 'src/catalog/catalog-file.ts'],
    ['domain code importing the HTTP layer', "import { router } from '../api/openapi.js';", 'src/billing/invoices.ts'],
    ['usage importing catalog', "import { pricesForTeam } from '../catalog/team-plans.js';", 'src/usage/ingest.ts'],
    ['catalog importing usage', "import { ensurePeriods } from '../usage/billing-periods.js';", 'src/catalog/schema.ts'],
    ['a workflow internal outside workflows', "import { activated } from '../workflows/subscription-state.js';", 'src/orchestration/subscriptions.ts'],
    ['a workflow internal from the api', "import { DB_ACTIVITY } from '../../workflows/options.js';", 'src/api/routes/subscription.ts'],
    ['activities proxied around activity-proxies.ts', "import { proxyActivities } from '@temporalio/workflow';", 'src/workflows/close-billing-period.ts'],
    ['a Node module in a workflow', "import { randomUUID } from 'node:crypto';", 'src/workflows/subscription-steps.ts'],
  ])('catch %s', async (_what, code, filePath) => {
    expect(await breaches(code, filePath)).toEqual([expect.stringMatching(/^no-restricted-imports: /)]);
  });

  it('allow what the direction allows', async () => {
    expect(await breaches("import { METERS } from '../pricing/meters.js';", 'src/catalog/schema.ts')).toEqual([]);
    expect(await breaches("import { workflowIds } from '../workflows/ids.js';", 'src/orchestration/subscriptions.ts')).toEqual([]);
    expect(await breaches("import { proxyActivities } from '@temporalio/workflow';", 'src/workflows/activity-proxies.ts')).toEqual([]);
  });
});
