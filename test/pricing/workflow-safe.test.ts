/** The pricing engine runs inside Temporal's workflow sandbox too: nothing it imports, directly or not, may do I/O. */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/shared/paths.js';

/** Packages that are pure computation and deterministic. */
const PURE_PACKAGES = new Set(['decimal.js', 'zod']);

function importsOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\s(?:[^'"]*?from\s+)?'([^']+)'/gm)].map((m) => m[1]!);
}

/** Every module reachable from `entry`, with the packages each one imports. */
function packagesReachable(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const packages: string[] = [];
    seen.set(file, packages);
    for (const spec of importsOf(file)) {
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.push(spec);
    }
  };
  visit(entry);
  return seen;
}

describe('the pricing engine', () => {
  const dir = join(PROJECT_ROOT, 'src', 'pricing');
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    it(`imports only pure modules from ${name}`, () => {
      for (const [file, packages] of packagesReachable(join(dir, name))) {
        const impure = packages.filter((p) => !PURE_PACKAGES.has(p));
        expect(impure, `${file} imports ${impure.join(', ')}`).toEqual([]);
      }
    });
  }
});
