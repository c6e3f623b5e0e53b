/**
 * The embedded Temporal: `temporal server start-dev` from the real CLI, with a SQLite file in the data
 * folder (state survives restarts) and the Web UI. Also registers our search attributes on any server
 * (embedded or TEMPORAL_ADDRESS), because start-dev only applies `--search-attribute` flags when it
 * creates a new database file.
 */
import { ensureSearchAttributes } from '../shared/temporal.js';
import { SEARCH_ATTRIBUTES } from '../shared/search-attributes.js';
import { startProcess, waitForPort, type ManagedProcess } from './processes.js';

export interface DevServerOptions {
  cli: string;
  port: number;
  /** null runs headless (tests). */
  uiPort: number | null;
  /** SQLite file; undefined keeps state in memory (tests). */
  dbFile?: string;
  namespace: string;
  logFile: string;
  /** Tests trade durability for speed; the launcher keeps the defaults. */
  fastSqlite?: boolean;
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  process: ManagedProcess;
}

export async function startTemporalDevServer(opts: DevServerOptions): Promise<DevServer> {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port), '--namespace', opts.namespace];
  args.push('--log-level', 'warn', '--log-format', 'json');
  if (opts.uiPort === null) args.push('--headless');
  else args.push('--ui-port', String(opts.uiPort), '--ui-ip', '127.0.0.1');
  if (opts.dbFile) {
    args.push('--db-filename', opts.dbFile, '--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'busy_timeout=5000');
    args.push('--sqlite-pragma', `synchronous=${opts.fastSqlite ? 'OFF' : 'NORMAL'}`);
  }
  for (const key of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);
  const proc = startProcess('temporal', opts.cli, args, { logFile: opts.logFile });
  const address = `127.0.0.1:${opts.port}`;
  try {
    await Promise.race([
      waitForPort('127.0.0.1', opts.port, 60_000),
      proc.exited.then((code) => {
        throw new Error(`Temporal dev server exited with ${code}; see ${opts.logFile}`);
      }),
    ]);
    await ensureSearchAttributes(address, opts.namespace, 60_000);
    if (opts.uiPort !== null) await waitForPort('127.0.0.1', opts.uiPort, 30_000);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { address, uiUrl: opts.uiPort === null ? null : `http://127.0.0.1:${opts.uiPort}`, process: proc };
}
