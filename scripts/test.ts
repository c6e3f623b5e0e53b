/**
 * `npm test`: starts the real services once (Postgres, Temporal dev server, stripe-mock; building
 * the Go tools on first use), runs the vitest suite against them, verifies the ledger the suite
 * left behind, and ends with one plain line: `N passed, N failed[, N skipped]`.
 * Extra arguments go to vitest (e.g. `npm test -- test/api`).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir, PROJECT_ROOT } from '../src/shared/paths.js';
import { SERVICES_ENV, startTestServices } from '../test/helpers/services.js';
import { runLedgerVerification } from './test-verify.js';
import { isExpectedStartupFailure, startupFailureLine } from '../src/dev/startup-error.js';

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numTotalTestSuites: number;
  numFailedTestSuites: number;
  testResults: Array<{ status: string; message?: string; name: string }>;
}

async function main(): Promise<number> {
  const say = (m: string) => process.stdout.write(`[test] ${m}\n`);
  const started = Date.now();
  const { services, stop } = await startTestServices(say);
  say(`services up in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  const report = join(dataDir(), 'test', 'vitest-report.json');
  rmSync(report, { force: true });
  let code: number;
  let verify: { ok: boolean; summary: string };
  try {
    code = await new Promise<number>((resolve) => {
      const child = spawn(
        process.execPath,
        [join(PROJECT_ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
        { cwd: PROJECT_ROOT, stdio: 'inherit', env: { ...process.env, [SERVICES_ENV]: JSON.stringify(services) } },
      );
      child.once('exit', (c) => resolve(c ?? 1));
    });
    verify = await runLedgerVerification(services.adminDbUrl);
    say(`ledger verification: ${verify.summary}`);
  } finally {
    await stop();
  }
  if (!existsSync(report)) {
    process.stdout.write('0 passed, 1 failed\n');
    return 1;
  }
  const r = JSON.parse(readFileSync(report, 'utf8')) as VitestJson;
  // A file that fails to load has no tests in it but must still count as a failure.
  const brokenFiles = r.testResults.filter((f) => f.status === 'failed' && f.message && f.message.length > 0 && !f.name.includes('.bench.')).length;
  const failed = r.numFailedTests + (r.numFailedTests === 0 ? brokenFiles : 0) + (verify.ok ? 0 : 1);
  const passed = r.numPassedTests + (verify.ok && verify.summary !== 'skipped' ? 1 : 0);
  const skipped = r.numPendingTests + r.numTodoTests;
  say(`total ${((Date.now() - started) / 1000).toFixed(1)}s`);
  process.stdout.write(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}\n`);
  return failed > 0 || code !== 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    // One line that says what failed and what to do, right above the summary CI reads.
    if (!isExpectedStartupFailure(err)) process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.stdout.write(`[test] failed: ${startupFailureLine(err)}\n`);
    process.stdout.write('0 passed, 1 failed\n');
    process.exit(1);
  },
);
