/**
 * How the workflow bundle is built, in one place for the worker, the tests and `npm run build`.
 * Our sources import `./x.js` (NodeNext style) while the files are `.ts`; webpack needs to be told.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger, type BundleOptions } from '@temporalio/worker';
import { PROJECT_ROOT } from '../shared/paths.js';

export const WORKFLOWS_PATH = join(PROJECT_ROOT, 'src', 'workflows', 'index.ts');
/** Where `npm run build` writes the production bundle. */
export const PREBUILT_BUNDLE_PATH = join(PROJECT_ROOT, 'dist', 'workflow-bundle.js');

export const bundlerOptions: NonNullable<BundleOptions['webpackConfigHook']> = (config) => {
  config.resolve ??= {};
  config.resolve.extensionAlias = { '.js': ['.ts', '.js'] };
  return config;
};

export async function buildWorkflowBundle(): Promise<string> {
  // Webpack's progress is noise in test and build output; warnings and errors still show.
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, webpackConfigHook: bundlerOptions, logger: new DefaultLogger('WARN') });
  return code;
}

/**
 * The prebuilt bundle to run, or null to bundle the sources at start. Compiled code (dist/) runs the
 * bundle `npm run build` made beside it; code run from sources never picks up a possibly stale bundle
 * unless WORKFLOW_BUNDLE_PATH says so explicitly.
 */
export function prebuiltBundle(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.WORKFLOW_BUNDLE_PATH) return env.WORKFLOW_BUNDLE_PATH;
  const runningCompiled = import.meta.url.includes('/dist/');
  return runningCompiled && existsSync(PREBUILT_BUNDLE_PATH) ? PREBUILT_BUNDLE_PATH : null;
}
