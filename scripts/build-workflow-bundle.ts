/** `npm run build` step: the production workflow bundle, built once so workers start fast and identical. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildWorkflowBundle, PREBUILT_BUNDLE_PATH } from '../src/workers/bundle.js';

mkdirSync(dirname(PREBUILT_BUNDLE_PATH), { recursive: true });
writeFileSync(PREBUILT_BUNDLE_PATH, await buildWorkflowBundle());
process.stdout.write(`workflow bundle written to ${PREBUILT_BUNDLE_PATH}\n`);
