/**
 * Replays every recorded history in test/histories/ against the current workflow code. A change that
 * alters the commands a running workflow would issue fails here, before it reaches a worker: such a
 * change needs `patched()` (see README, Operations → Changing workflow code).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { services } from '../helpers/context.js';
import { HISTORIES_DIR } from '../helpers/histories.js';

const files = readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json')).sort();

describe('recorded workflow histories', () => {
  it('include a subscriptionLifecycle and a closeBillingPeriod history', () => {
    expect(files.some((f) => f.startsWith('subscription-lifecycle.'))).toBe(true);
    expect(files.some((f) => f.startsWith('close-billing-period.'))).toBe(true);
  });

  it.each(files)('%s replays against the current workflow code without non-determinism', async (file) => {
    const history = historyFromJSON(JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8')));
    await Worker.runReplayHistory({ workflowBundle: { codePath: services.bundlePath } }, history, file);
  });
});
