/**
 * Values for a JSON schema, drawn through fast-check's `gen` (so a run is reproducible from its seed),
 * plausible enough to get past the outer checks, and defects: changes that break a constraint the
 * schema states, so the server must refuse the request. Each generated node is recorded as a site a
 * defect can target.
 */
import fc from 'fast-check';
import { admittedTypes, type Schema } from './operations.js';

export type Path = Array<string | number>;
export interface Site {
  path: Path;
  schema: Schema;
}

/** Known-good values by field or parameter name (the seeded team, app, plan…), used most of the time. */
export type NamedValues = Record<string, readonly string[]>;

type G = fc.GeneratorValue;

const NOW_MS = Date.now();

/**
 * One element of `list`, picked by index. `gen` caches the arbitraries it builds by deep-comparing
 * their arguments, so handing it changing lists (of objects, closures, signatures) would make every
 * later call slower; an index range is one small entry per length.
 */
export function pick<T>(g: G, list: readonly T[]): T {
  return list[g(fc.nat, { max: list.length - 1 })]!;
}

/** Strings matching the regular expression `source`, passed as a string: `gen` would take any two RegExps for equal. */
export function matching(source: string): fc.Arbitrary<string> {
  return fc.stringMatching(new RegExp(source), { size: 'xsmall' });
}
const DEPTH_MAX = 8;

/** Strings Postgres cannot store, and values JSON allows that schemas rarely expect. */
export const UNSTORABLE_STRINGS = ['a\u0000b', '\u0000', 'x\ud800', '\udfffy', 'ok\ud83d', '\u0000\ud800'] as const;
const ODD_VALUES: unknown[] = [null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, '', ' ', 'null', '0', [], [null], {}, { a: {} }];

function typeList(s: Schema): string[] {
  if (s.type) return Array.isArray(s.type) ? s.type : [s.type];
  if (s.properties || s.additionalProperties !== undefined) return ['object'];
  if (s.items) return ['array'];
  return ['string'];
}

function stringFor(g: G, s: Schema, name: string | undefined, named: NamedValues): string {
  const known = name !== undefined ? named[name] : undefined;
  if (known && known.length > 0 && g(fc.integer, { min: 0, max: 99 }) < 85) return pick(g, known);
  switch (s.format) {
    case 'date-time':
      return new Date(NOW_MS - g(fc.integer, { min: -3_600_000, max: 40 * 86_400_000 })).toISOString();
    case 'date':
      return new Date(NOW_MS - g(fc.integer, { min: 0, max: 400 }) * 86_400_000).toISOString().slice(0, 10);
    case 'uuid':
      return g(fc.uuid);
    case 'uri':
    case 'url':
      return `https://example.com/${g(matching, '^[a-z]{0,8}$')}`;
    case 'email':
      return `${g(matching, '^[a-z]{1,8}$')}@example.com`;
  }
  const maxLength = Math.min(s.maxLength ?? 24, 24);
  if (s.pattern) {
    const value = g(matching, s.pattern);
    return value.length > (s.maxLength ?? Infinity) ? value.slice(0, s.maxLength) : value;
  }
  return g(fc.string, { minLength: Math.min(s.minLength ?? 0, maxLength), maxLength });
}

function numberFor(g: G, s: Schema, integer: boolean): number {
  const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 0);
  const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : min + 1000);
  const n = g(fc.integer, { min: Math.ceil(Math.max(min, -1e9)), max: Math.floor(Math.min(max, Math.max(min, 0) + 1e6)) });
  return integer || n + 0.5 > max || !g(fc.boolean) ? n : n + 0.5;
}

/**
 * A value for `s`; every node is pushed onto `sites` with its path. The branch chosen from anyOf/oneOf
 * is not a site itself (a defect must break the union, not one branch), but its children are.
 */
export function valueFor(g: G, s: Schema, named: NamedValues, sites: Site[], path: Path = [], name?: string, depth = 0, isBranch = false): unknown {
  if (!isBranch) sites.push({ path, schema: s });
  if (s.const !== undefined) return s.const;
  if (s.enum) return pick(g, s.enum);
  const branches = s.oneOf ?? s.anyOf;
  if (branches && branches.length > 0) return valueFor(g, branches[g(fc.nat, { max: branches.length - 1 })]!, named, sites, path, name, depth, true);
  const types = typeList(s);
  const nonNull = types.filter((t) => t !== 'null');
  const type = nonNull.length === 0 || (types.includes('null') && g(fc.integer, { min: 0, max: 9 }) === 0) ? 'null' : pick(g, nonNull);
  switch (type) {
    case 'null':
      return null;
    case 'boolean':
      return g(fc.boolean);
    case 'integer':
    case 'number':
      return numberFor(g, s, type === 'integer');
    case 'array': {
      const min = s.minItems ?? 0;
      const count = depth >= DEPTH_MAX ? min : g(fc.integer, { min, max: Math.max(min, Math.min(s.maxItems ?? 3, min + 2)) });
      return Array.from({ length: count }, (_, i) => valueFor(g, s.items ?? {}, named, sites, [...path, i], name, depth + 1));
    }
    case 'object':
      return objectFor(g, s, named, sites, path, depth);
    default:
      return stringFor(g, s, name, named);
  }
}

function objectFor(g: G, s: Schema, named: NamedValues, sites: Site[], path: Path, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const required = new Set(s.required ?? []);
  for (const [key, child] of Object.entries(s.properties ?? {})) {
    if (required.has(key) || (depth < DEPTH_MAX && g(fc.boolean))) out[key] = valueFor(g, child, named, sites, [...path, key], key, depth + 1);
  }
  const extra = s.additionalProperties;
  if (extra && depth < DEPTH_MAX && !s.properties) {
    const count = g(fc.integer, { min: 0, max: 2 });
    for (let i = 0; i < count; i++) {
      const key = g(matching, '^[a-z][a-z0-9_]{0,8}$');
      out[key] = extra === true || Object.keys(extra).length === 0 ? g(fc.jsonValue, { maxDepth: 1 }) : valueFor(g, extra, named, sites, [...path, key], key, depth + 1);
    }
  }
  return out;
}

/** A defect at one site: a description (for the failure report) and the change it makes. */
export interface Defect {
  kind: string;
  at: string;
  apply: (root: unknown) => unknown;
}

function setAt(root: unknown, path: Path, fn: (v: unknown) => unknown): unknown {
  if (path.length === 0) return fn(root);
  const [head, ...rest] = path;
  const container = root as Record<string | number, unknown>;
  container[head!] = setAt(container[head!], rest, fn);
  return root;
}

function deleteAt(root: unknown, path: Path, key: string): unknown {
  return setAt(root, path, (v) => {
    delete (v as Record<string, unknown>)[key];
    return v;
  });
}

/** Every defect `s` makes possible at `path`, each guaranteed to break a stated constraint. */
export function defectsAt(g: G, site: Site, current: unknown): Defect[] {
  const { schema: s, path } = site;
  const at = path.join('.') || '(root)';
  const out: Defect[] = [];
  const admitted = admittedTypes(s);
  if (admitted) {
    const wrong = ODD_VALUES.filter((v) => !admitted.has(v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v));
    if (wrong.length > 0) out.push({ kind: 'type', at, apply: (r) => setAt(r, path, () => pick(g, wrong)) });
  }
  const isObject = typeof current === 'object' && current !== null && !Array.isArray(current);
  if (isObject && (s.required?.length ?? 0) > 0) {
    const key = pick(g, s.required!);
    out.push({ kind: 'missing', at: `${at}.${key}`, apply: (r) => deleteAt(r, path, key) });
  }
  if (isObject && s.additionalProperties === false) {
    out.push({ kind: 'unknown field', at, apply: (r) => setAt(r, path, (v) => ({ ...(v as object), zz_unknown_field: 1 })) });
  }
  if (s.enum && s.enum.every((e) => typeof e === 'string')) out.push({ kind: 'enum', at, apply: (r) => setAt(r, path, () => 'not-a-listed-value') });
  if (typeof current === 'string') {
    out.push({ kind: 'unstorable text', at, apply: (r) => setAt(r, path, (v) => `${String(v)}${pick(g, UNSTORABLE_STRINGS)}`) });
    if (s.maxLength !== undefined) out.push({ kind: 'too long', at, apply: (r) => setAt(r, path, () => 'a'.repeat(s.maxLength! + 1 + g(fc.nat, { max: 8 }))) });
    if ((s.minLength ?? 0) > 0) out.push({ kind: 'too short', at, apply: (r) => setAt(r, path, () => '') });
  }
  if (typeof current === 'number') {
    if (s.maximum !== undefined) out.push({ kind: 'above maximum', at, apply: (r) => setAt(r, path, () => s.maximum! + 1) });
    if (s.minimum !== undefined) out.push({ kind: 'below minimum', at, apply: (r) => setAt(r, path, () => s.minimum! - 1) });
    if (s.type === 'integer') out.push({ kind: 'not an integer', at, apply: (r) => setAt(r, path, (v) => Number(v) + 0.5) });
  }
  if (Array.isArray(current)) {
    if (s.maxItems !== undefined && current.length > 0) out.push({ kind: 'too many items', at, apply: (r) => setAt(r, path, (v) => Array.from({ length: s.maxItems! + 1 }, () => (v as unknown[])[0])) });
    if ((s.minItems ?? 0) > 0) out.push({ kind: 'too few items', at, apply: (r) => setAt(r, path, () => []) });
  }
  return out;
}
