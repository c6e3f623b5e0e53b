/**
 * The launcher's children never outlive it: a SIGTERM sent to the `npm start` process alone (what
 * process managers do) or a launcher whose parent was killed stops every process below it. Runs the
 * real chain — npm, its shell, scripts/run.mjs, a tsx entry with the launcher's supervisor
 * (test/dev/fixtures/supervised-children.ts) — with cheap children instead of the services.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/shared/paths.js';
import { until } from '../helpers/context.js';

const FIXTURE = 'test/dev/fixtures/supervised-children.ts';
/** Every process a test started (its tree as seen when ready), by pid and start time. */
const started = new Map<number, string>();
const remember = (pids: number[]) => pids.forEach((pid) => started.set(pid, startTime(pid)));
const folders: string[] = [];
const tempFolder = () => {
  const dir = mkdtempSync(join(tmpdir(), 'launcher-'));
  folders.push(dir);
  return dir;
};

afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  // A failed test must not leave its tree running on a machine other runs share; the start time
  // makes sure a pid reused meanwhile by someone else's process is left alone.
  for (const [pid, at] of started) if (alive(pid) && startTime(pid) === at) kill(pid, 'SIGKILL');
});

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* gone */
  }
}

/** Fields of /proc/<pid>/stat after the command name: state, ppid, … (null when gone). */
function stat(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** Running (not a zombie waiting for a parent that never reaps it). */
function alive(pid: number): boolean {
  const fields = stat(pid);
  return fields !== null && fields[0] !== 'Z';
}

function startTime(pid: number): string {
  return stat(pid)?.[19] ?? '';
}

/** Every process below `pid`, from /proc. */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const fields = /^\d+$/.test(entry) ? stat(Number(entry)) : null;
    if (fields) parentOf.set(Number(entry), Number(fields[1]));
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parentOf) {
      if (parent !== p) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

function command(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Starts `program` as the top process of a launcher tree; resolves when every child runs. */
async function launch(program: string, args: string[], cwd: string): Promise<{ top: ChildProcess; ready: string; tree: number[] }> {
  const ready = join(tempFolder(), 'ready');
  const top = spawn(program, args, { cwd, env: { ...process.env, LAUNCHER_READY_FILE: ready }, stdio: 'ignore' });
  remember([top.pid!]);
  try {
    await until(async () => existsSync(ready), { what: 'launcher fixture ready', timeoutMs: 30_000 });
  } finally {
    remember(descendants(top.pid!));
  }
  // The whole tree is up when the shell child has started both of its sleeps.
  const tree = await until(async () => {
    const pids = descendants(top.pid!);
    remember(pids);
    return pids.filter((pid) => command(pid) === 'sleep').length === 2 ? pids : undefined;
  }, { what: 'the whole tree', timeoutMs: 10_000 });
  return { top, ready, tree };
}

describe('stopping the launcher', () => {
  it('stops every child when only the `npm start` process gets SIGTERM', async () => {
    const dir = tempFolder();
    // An npm project whose start script runs ours: `npm start` → sh → scripts/run.mjs → entry.
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'launcher-test', private: true, scripts: { start: `cd ${PROJECT_ROOT} && node scripts/run.mjs ${FIXTURE}` } }));
    const { top, ready, tree } = await launch('npm', ['start', '--silent'], dir);
    expect(tree.every(alive)).toBe(true);

    kill(top.pid!, 'SIGTERM');
    await until(async () => tree.every((pid) => !alive(pid)), { what: `every process of ${tree.join(', ')} gone`, timeoutMs: 15_000 });
    // The resource registered after the children (Postgres in the launcher) was stopped too.
    expect(existsSync(`${ready}.resource-stopped`)).toBe(true);
  }, 60_000);

  it('stops every child when the process that started the launcher is killed without a signal to pass on', async () => {
    const { top, ready, tree } = await launch(process.execPath, ['scripts/run.mjs', FIXTURE], PROJECT_ROOT);
    const entry = Number(readFileSync(ready, 'utf8'));
    expect(tree).toContain(entry);

    kill(top.pid!, 'SIGKILL'); // run.mjs: nothing reaches the entry but its parent's disappearance
    await until(async () => tree.every((pid) => !alive(pid)), { what: `every process of ${tree.join(', ')} gone`, timeoutMs: 15_000 });
    expect(existsSync(`${ready}.resource-stopped`)).toBe(true);
  }, 60_000);
});
