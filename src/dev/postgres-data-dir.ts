/**
 * Where the embedded Postgres keeps its data. Normally the folder asked for (BILLING_DATA_DIR/postgres,
 * or .data/test/postgres for the tests). As root, Postgres runs as the `postgres` OS user; when that
 * user cannot walk to the folder (a clone under /root or in a `mktemp -d` folder), the data goes to
 * /var/lib/billing-ledger/<id>/pgdata instead, and the folder asked for becomes a symlink to it, so
 * later starts find the same data and deleting the data folder still starts afresh.
 */
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { describeFolder, firstClosedFolder, type OsUser } from './postgres-os-user.js';
import { errorCode, makeFolder, StartupError } from './startup-error.js';

/** Data of root's clones that the `postgres` OS user cannot reach; one sub-folder per data folder. */
export const POSTGRES_SHARED_DATA = '/var/lib/billing-ledger';

/** The file in each sub-folder of POSTGRES_SHARED_DATA that names the data folder it belongs to. */
export const ORIGIN_FILE = 'origin';

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function isEmptyOrMissing(path: string): boolean {
  return !existsSync(path) || readdirSync(path).length === 0;
}

/** Creates `dir` if needed; as root, hands an uninitialised one to the user Postgres runs as. */
function ownFolder(dir: string, user: OsUser | null): void {
  makeFolder(dir);
  if (user && !existsSync(join(dir, 'PG_VERSION'))) chownSync(dir, user.uid, user.gid);
}

/**
 * The real folder Postgres should use for `dir`, created if needed. `user` is the OS user Postgres
 * runs as when we are root, null otherwise (Postgres then runs as us and reaches whatever we reach).
 */
export function postgresDataDirFor(dir: string, user: OsUser | null, sharedRoot = POSTGRES_SHARED_DATA): string {
  makeFolder(dirname(dir));
  if (isSymlink(dir)) {
    const target = resolve(dirname(dir), readlinkSync(dir));
    ownFolder(target, user);
    const closed = user && firstClosedFolder(dirname(target), user);
    if (closed) {
      throw new StartupError(
        `Postgres runs as the OS user "${user.name}", which cannot reach ${target} (the target of ${dir}; ${closed}: ${describeFolder(closed)}); remove the link ${dir} to start afresh, or set DATABASE_URL`,
      );
    }
    return target;
  }
  const closed = user && firstClosedFolder(dirname(dir), user);
  if (!closed) {
    ownFolder(dir, user);
    return dir;
  }
  if (!isEmptyOrMissing(dir)) {
    throw new StartupError(
      `Postgres runs as the OS user "${user.name}", which cannot reach the data in ${dir} (${closed}: ${describeFolder(closed)}); move the clone (or BILLING_DATA_DIR) to a folder others can traverse, or move ${dir} away to start afresh`,
    );
  }
  return relocate(dir, user, sharedRoot, closed);
}

/** Makes <sharedRoot>/<id>/pgdata for `dir` and links `dir` to it. */
function relocate(dir: string, user: OsUser, sharedRoot: string, closed: string): string {
  const home = join(sharedRoot, randomBytes(6).toString('hex'));
  const pgdata = join(home, 'pgdata');
  try {
    // Narrowest modes that work: the user may traverse (not list) root's folders, and owns only pgdata.
    for (const folder of [sharedRoot, home]) {
      mkdirSync(folder, { recursive: true });
      chownSync(folder, 0, user.gid);
      chmodSync(folder, 0o710);
    }
    writeFileSync(join(home, ORIGIN_FILE), `${dir}\n`, { mode: 0o600 });
    mkdirSync(pgdata, { mode: 0o700 });
    chownSync(pgdata, user.uid, user.gid);
    if (existsSync(dir)) rmdirSync(dir);
    symlinkSync(pgdata, dir);
  } catch (err) {
    throw new StartupError(
      `Postgres runs as the OS user "${user.name}", which cannot reach ${dir} (${closed}: ${describeFolder(closed)}), and its data cannot go to ${sharedRoot} instead (${errorCode(err) ?? (err as Error).message}); move the clone (or BILLING_DATA_DIR) to a folder others can traverse, or set DATABASE_URL to use a Postgres you run`,
      { cause: err },
    );
  }
  const stillClosed = firstClosedFolder(home, user);
  if (stillClosed) {
    throw new StartupError(
      `Postgres runs as the OS user "${user.name}", which can reach neither ${dir} nor ${pgdata} (${stillClosed}: ${describeFolder(stillClosed)}); let others traverse ${stillClosed}, or set DATABASE_URL`,
    );
  }
  return pgdata;
}
