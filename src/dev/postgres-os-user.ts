/**
 * Postgres refuses to run as root, so as root the embedded Postgres runs as an unprivileged OS user
 * (`postgres`, created when missing). That user must be able to walk the path to the binaries and to
 * the data folder; this file finds the user and the first folder on a path that would stop it.
 */
import { execFileSync } from 'node:child_process';
import { realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { errorCode, StartupError } from './startup-error.js';

export const POSTGRES_OS_USER = 'postgres';

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

export function runsAsRoot(): boolean {
  return process.getuid?.() === 0;
}

function lookUp(name: string): OsUser | null {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { name, uid: id('-u'), gid: id('-g') };
  } catch {
    return null;
  }
}

function run(command: string, args: string[]): void {
  execFileSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * The OS user Postgres runs as when we are root; created as a system user without login or home when
 * it does not exist (the same user a distribution's Postgres package would create).
 */
export function postgresOsUser(name = POSTGRES_OS_USER): OsUser {
  const existing = lookUp(name);
  if (existing) return existing;
  try {
    // The group may exist without the user (exit code 9: already there).
    try {
      run('groupadd', ['--system', name]);
    } catch (err) {
      if ((err as { status?: number }).status !== 9) throw err;
    }
    run('useradd', ['--system', '--gid', name, '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', name]);
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim().split('\n').pop();
    const why = errorCode(err) === 'ENOENT' ? 'groupadd/useradd are not installed' : stderr || (err as Error).message;
    throw new StartupError(
      `Postgres cannot run as root and the OS user "${name}" could not be created (${why}); create it (useradd --system ${name}), run as a non-root user, or set DATABASE_URL to use a Postgres you run`,
      { cause: err },
    );
  }
  const created = lookUp(name);
  if (!created) throw new StartupError(`The OS user "${name}" was created but cannot be found with \`id ${name}\`; set DATABASE_URL to use a Postgres you run`);
  return created;
}

/**
 * The first folder from `/` down to `path` (included) that `user` may not traverse, or null when it
 * can walk the whole way. Mode bits only: a folder that lets the user through by an ACL alone counts
 * as closed, so the caller errs towards a place the user can certainly reach.
 */
export function firstClosedFolder(path: string, user: OsUser): string | null {
  // A symlink on the way is walked twice by the kernel: to the link, then along its target.
  return closedOnPath(resolve(path), user) ?? closedOnPath(realPathOfExisting(path), user);
}

function closedOnPath(path: string, user: OsUser): string | null {
  const folders: string[] = [];
  for (let dir = path; ; dir = dirname(dir)) {
    folders.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  for (const folder of folders) {
    let st;
    try {
      st = statSync(folder);
    } catch {
      return null; // Not created yet: whoever creates it below an open folder decides its mode.
    }
    const bit = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001;
    if (!st.isDirectory() || (st.mode & bit) === 0) return folder;
  }
  return null;
}

/** The real path of the longest existing part of `path`, with the rest appended. */
function realPathOfExisting(path: string): string {
  const abs = resolve(path);
  for (let dir = abs; ; dir = dirname(dir)) {
    try {
      return join(realpathSync(dir), relative(dir, abs));
    } catch {
      if (dirname(dir) === dir) return abs;
    }
  }
}

/** `mode 0700, owner uid 0`, for a message that says why a folder is closed. */
export function describeFolder(path: string): string {
  const st = statSync(path);
  return `mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}, owner uid ${st.uid}`;
}
