#!/usr/bin/env node
/**
 * `npm start` and `npm test` go through here so that they are the only two commands a fresh clone
 * needs: when node_modules is missing or older than package-lock.json, dependencies are installed
 * first (`npm ci`), then the TypeScript entry runs under tsx. Plain Node, no dependencies: it runs
 * before any exist.
 *
 *   node scripts/run.mjs <entry.ts> [args...]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { clearInterval, setInterval } from 'node:timers';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  process.stderr.write('usage: node scripts/run.mjs <entry.ts> [args...]\n');
  process.exit(2);
}

// npm writes node_modules/.package-lock.json on every install: older than the lock file means the
// dependencies on disk are not the ones the lock file names.
const installed = join(root, 'node_modules', '.package-lock.json');
const stale = !existsSync(installed) || statSync(join(root, 'package-lock.json')).mtimeMs > statSync(installed).mtimeMs;
if (stale) {
  process.stdout.write('[run] installing dependencies (npm ci)…\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const install = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (install.status !== 0) {
    process.stderr.write('[run] npm ci failed; see above\n');
    process.exit(install.status ?? 1);
  }
}

const child = spawn(process.execPath, ['--import', 'tsx', join(root, entry), ...args], { cwd: process.cwd(), stdio: 'inherit' });
// Signals are passed on (Ctrl-C reaches the child from the terminal too; the entries treat a second
// signal as the same request), and this process exits with the child.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
// A process manager may signal only the top process. For `npm start` that is npm, which then ends its
// shell, and no signal reaches this process: losing the parent (its id changes) counts as a SIGTERM.
const parent = process.ppid;
const parentWatch = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(parentWatch);
  child.kill('SIGTERM');
}, 250);
parentWatch.unref();
child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 1)));
