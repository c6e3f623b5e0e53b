/**
 * Where the embedded services cannot start, the launcher and the test runner end with one line that
 * says what failed, why and what to do; the embedded Postgres turns its own refusals into that line.
 */
import { execFile } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPg } from '../../src/dev/postgres-server.js';
import { postgresDataDirFor } from '../../src/dev/postgres-data-dir.js';
import { firstClosedFolder, postgresOsUser, runsAsRoot } from '../../src/dev/postgres-os-user.js';
import { freePort } from '../../src/dev/processes.js';
import { StartupError } from '../../src/dev/startup-error.js';
import { dataDir, PROJECT_ROOT } from '../../src/shared/paths.js';

const scratch = mkdtempSync(join(tmpdir(), 'billing-startup-'));
/** A regular file: no folder can be created below it, whoever we are (root ignores modes). */
const aFile = join(scratch, 'a-file');
writeFileSync(aFile, '');

/** Runs `npm start` or `npm test` (through scripts/run.mjs, as npm does) and returns its output lines. */
function runEntry(entry: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; lines: string[] }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['scripts/run.mjs', entry], { cwd: PROJECT_ROOT, env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? null) : 0;
      resolve({ code, lines: `${stderr}${stdout}`.split('\n').filter((l) => l.trim()) });
    });
  });
}

const unwritableDataDir = { ...process.env, BILLING_DATA_DIR: join(aFile, 'data'), DATABASE_URL: '', NODE_ENV: '' };

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the launcher and the test runner when they cannot start', () => {
  it('npm start ends with one line naming the data folder it cannot create and what to do', async () => {
    const { code, lines } = await runEntry('src/dev/start.ts', unwritableDataDir);
    expect(code).toBe(1);
    expect(lines.at(-1)).toBe(`[start] failed: Cannot create or write ${join(aFile, 'data')} (ENOTDIR); point BILLING_DATA_DIR at a writable folder`);
    expect(lines.some((l) => /^\s+at /.test(l))).toBe(false);
  });

  it('npm test ends with that line above "0 passed, 1 failed"', async () => {
    const { code, lines } = await runEntry('scripts/test.ts', unwritableDataDir);
    expect(code).toBe(1);
    expect(lines.slice(-2)).toEqual([
      `[test] failed: Cannot create or write ${join(aFile, 'data', 'test')} (ENOTDIR); point BILLING_DATA_DIR at a writable folder`,
      '0 passed, 1 failed',
    ]);
    expect(lines.some((l) => /^\s+at /.test(l))).toBe(false);
  });
});

describe('the embedded Postgres when it cannot start', () => {
  const dir = join(dataDir(), 'test', `startup-failures-${process.pid}`, 'postgres');
  const logFile = join(dirname(dir), 'postgres.log');
  const password = 'startup-failures';
  const started: EmbeddedPg[] = [];
  let busy: Server | undefined;

  afterAll(async () => {
    for (const pg of started) await pg.stop();
    busy?.close();
    // As root in a private clone, the data went to /var/lib/billing-ledger/<id>: remove it too.
    if (lstatSync(dir, { throwIfNoEntry: false })?.isSymbolicLink()) rmSync(dirname(readlinkSync(dir)), { recursive: true, force: true });
    rmSync(dirname(dir), { recursive: true, force: true });
  });

  it('names the port when something else listens on it', { timeout: 120_000 }, async () => {
    const port = await freePort();
    busy = createServer();
    await new Promise<void>((r) => busy!.listen(port, '127.0.0.1', r));
    const failure = await startEmbeddedPostgres({ dir, port, password, logFile }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StartupError);
    expect((failure as Error).message).toBe(`Port ${port} is in use, so Postgres cannot listen on it; stop what uses it or set BILLING_PG_PORT to a free port`);
  });

  it('says another Postgres runs on the folder when a second one is started there', { timeout: 120_000 }, async () => {
    const first = await startEmbeddedPostgres({ dir, port: await freePort(), password, logFile });
    started.push(first);
    const failure = await startEmbeddedPostgres({ dir, port: await freePort(), password, logFile }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StartupError);
    expect((failure as Error).message).toMatch(/^Another Postgres already runs on .+ \(its postmaster\.pid exists\); stop it, or set BILLING_DATA_DIR to another folder$/);
  });

  it('refuses a folder that holds something other than Postgres data', async () => {
    const other = join(dirname(dir), 'not-postgres');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'notes.txt'), 'mine');
    const failure = await startEmbeddedPostgres({ dir: other, port: await freePort(), password, logFile }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StartupError);
    // As root with the project in a private folder, the postgres OS user cannot even reach it.
    const closed = runsAsRoot() ? firstClosedFolder(dirname(other), postgresOsUser()) : null;
    expect((failure as Error).message).toMatch(
      closed
        ? /^Postgres runs as the OS user "postgres", which cannot reach the data in .+; move the clone \(or BILLING_DATA_DIR\) to a folder others can traverse, or move .+ away to start afresh$/
        : /^.+ is neither empty nor a Postgres data folder; move it away or set BILLING_DATA_DIR$/,
    );
  });
});

describe('what the postgres OS user can reach', () => {
  const stranger = { name: 'stranger', uid: 4242, gid: 4242 };

  it('names the first folder on the way that others may not traverse', () => {
    chmodSync(scratch, 0o755);
    const privateFolder = mkdtempSync(join(scratch, 'private-'));
    mkdirSync(join(privateFolder, 'open', 'deeper'), { recursive: true });
    // The temporary folder's own parents may be private too; then they are the first.
    expect(firstClosedFolder(join(privateFolder, 'open', 'deeper'), stranger)).toBe(firstClosedFolder(scratch, stranger) ?? privateFolder);
    chmodSync(privateFolder, 0o711);
    expect(firstClosedFolder(join(privateFolder, 'open', 'deeper'), stranger)).toBe(firstClosedFolder(scratch, stranger));
  });

  it('says in one line that the OS user cannot be created, and what to do, when the tools to create it are missing', () => {
    const path = process.env.PATH;
    // Without PATH, neither `id` nor groupadd/useradd can be found: nothing is created on this machine.
    process.env.PATH = join(scratch, 'no-tools');
    try {
      expect(() => postgresOsUser('billing-no-such-user')).toThrow(
        new StartupError(
          'Postgres cannot run as root and the OS user "billing-no-such-user" could not be created (groupadd/useradd are not installed); create it (useradd --system billing-no-such-user), run as a non-root user, or set DATABASE_URL to use a Postgres you run',
        ),
      );
    } finally {
      process.env.PATH = path;
    }
  });

  it.runIf(runsAsRoot())('as root, says in one line when the data can neither stay nor move to the shared folder', () => {
    const privateFolder = mkdtempSync(join(scratch, 'private-'));
    const call = () => postgresDataDirFor(join(privateFolder, 'postgres'), postgresOsUser(), join(aFile, 'shared'));
    expect(call).toThrow(StartupError);
    expect(call).toThrow(/cannot reach .+ \(.+: mode 0700, owner uid 0\), and its data cannot go to .+ instead \(ENOTDIR\); move the clone \(or BILLING_DATA_DIR\) to a folder others can traverse, or set DATABASE_URL/);
  });
});
