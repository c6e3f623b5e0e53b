// Which folder may import which: the direction of src/ as ARCHITECTURE.md draws it, held by
// no-restricted-imports. eslint.config.js uses these blocks; test/shared/import-boundaries.test.ts
// lints src/ with them alone (fast, no type information), so `npm test` (and CI) fails on a breach.

const noApi = {
  group: ['**/api/*', '**/api/**'],
  message: 'Domain code must not import the HTTP layer (src/api/); move what both need to src/shared/ or the domain.',
};
const noCatalog = { group: ['**/catalog/*', '**/catalog/**'], message: 'usage/ and catalog/ do not import each other; shared pieces live in pricing/ or shared/.' };
const noUsage = { group: ['**/usage/*', '**/usage/**'], message: 'usage/ and catalog/ do not import each other; shared pieces live in pricing/ or shared/.' };

/** Workflow modules nothing outside src/workflows/ may import: its public surface is the workflows, their messages, ids, periods and start state. */
export const WORKFLOW_INTERNALS = ['subscription-state', 'subscription-steps', 'serial', 'workflow-clock', 'options', 'clock', 'activity-proxies'];
const noWorkflowInternals = {
  group: WORKFLOW_INTERNALS.map((name) => `**/workflows/${name}.js`),
  message: "Workflow internals stay inside src/workflows/; use the workflow's messages, ids or subscription-start.ts.",
};

/** Node and I/O modules, clients: workflow code is deterministic and acts only through activities. */
const workflowDeterminism = [
  { group: ['node:*', 'fs', 'path', 'crypto', 'http', 'https', 'net', 'os', 'child_process'], message: 'Workflow code must be deterministic: no Node modules.' },
  { group: ['postgres', 'pino', 'stripe', 'jose', 'hono', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'], message: 'Workflows decide; activities act. Use an activity.' },
  { group: ['**/shared/db.js', '**/shared/logger.js', '**/shared/stripe.js', '**/shared/config.js'], message: 'Workflows decide; activities act. Use an activity.' },
];
/** Activities are proxied only by src/workflows/activity-proxies.ts, DB and Stripe apart. */
const onlyTypedProxies = {
  name: '@temporalio/workflow',
  importNames: ['proxyActivities'],
  message: 'Proxy activities through ./activity-proxies.js (dbActivities or stripeActivities), never with other timeouts.',
};

const DOMAIN = ['activities', 'billing', 'db', 'entitlements', 'ledger', 'orchestration', 'platform', 'pricing', 'shared', 'subscriptions', 'test-clocks', 'wallets', 'webhooks'];

const rule = (patterns, paths = []) => ({ 'no-restricted-imports': ['error', { patterns, paths }] });

export default [
  { files: DOMAIN.map((d) => `src/${d}/**/*.ts`), rules: rule([noApi, noWorkflowInternals]) },
  { files: ['src/usage/**/*.ts'], rules: rule([noApi, noCatalog, noWorkflowInternals]) },
  { files: ['src/catalog/**/*.ts'], rules: rule([noApi, noUsage, noWorkflowInternals]) },
  { files: ['src/api/**/*.ts', 'src/cli/**/*.ts', 'src/dev/**/*.ts', 'src/workers/**/*.ts'], rules: rule([noWorkflowInternals]) },
  { files: ['src/workflows/**/*.ts'], rules: rule([...workflowDeterminism, noApi], [onlyTypedProxies]) },
  { files: ['src/workflows/activity-proxies.ts'], rules: rule([...workflowDeterminism, noApi]) },
];
