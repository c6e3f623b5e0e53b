/**
 * Recorded workflow histories: the replay test runs every file in test/histories/ against the
 * current workflow code, so a change that would break running workflows fails CI. Tests that drive a
 * workflow type through its paths record them when RECORD_HISTORIES=1.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { Client } from '@temporalio/client';
import { PROJECT_ROOT } from '../../src/shared/paths.js';

export const HISTORIES_DIR = join(PROJECT_ROOT, 'test', 'histories');

/** Writes every closed run of `workflowId` as `<name>.<n>.json` when RECORD_HISTORIES=1. */
export async function recordHistories(client: Client, workflowId: string, name: string, opts: { awaitResult?: boolean } = {}): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  if (opts.awaitResult) await client.workflow.getHandle(workflowId).result();
  // Visibility is eventually consistent: give the list a moment to show the closed runs.
  await new Promise((r) => setTimeout(r, 1_000));
  mkdirSync(HISTORIES_DIR, { recursive: true });
  const runs: string[] = [];
  for await (const run of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
    if (run.status.name !== 'RUNNING') runs.push(run.runId);
  }
  runs.reverse();
  for (const [i, runId] of runs.entries()) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    writeFileSync(join(HISTORIES_DIR, `${name}.${i + 1}.json`), historyToJSON(history));
  }
}
