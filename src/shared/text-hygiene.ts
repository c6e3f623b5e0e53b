/**
 * Text Postgres cannot store. JSON happily carries NUL (`\u0000`) and UTF-16 surrogates without their
 * pair (`\ud800`), but Postgres `text` refuses NUL and `jsonb` refuses both, so a value holding one
 * fails at the database as a 500 unless it is refused first, with the field named. Every input path
 * uses these checks: the API's validation hook (every zod-validated target of every route), usage
 * batches and Stripe webhook envelopes.
 *
 * Pure: no Node modules, so any layer may import it.
 */
import type { FieldError } from './errors.js';

/** A UTF-16 surrogate without its pair. */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE = new RegExp(`\\u0000|${LONE_SURROGATE.source}`);

export const UNSTORABLE_TEXT_MESSAGE = 'must not contain NUL or unpaired surrogates';

/** Whether Postgres can store `s` as text and inside jsonb. */
export function isStorableText(s: string): boolean {
  return !UNSTORABLE.test(s);
}

/** `s` with each NUL and unpaired surrogate replaced by U+FFFD, for showing what was refused. */
export function toStorableText(s: string): string {
  return isStorableText(s) ? s : s.replace(new RegExp(UNSTORABLE.source, 'g'), '\uFFFD');
}

const join = (path: string, key: string) => (path === '' ? key : `${path}.${key}`);

/**
 * Every string and object key in `value` that Postgres cannot store, named by dotted path from
 * `root` (`''` names fields from the top: `name`, `addOns.2`). Iterative, so a deeply nested value
 * cannot exhaust the stack; at most `fieldsMax` problems are returned.
 */
export function unstorableFields(value: unknown, root: string, fieldsMax = 20): FieldError[] {
  const problems: FieldError[] = [];
  // A bad key is queued as a marker, so problems come out in document order.
  const BAD_KEY = Symbol('bad key');
  const stack: Array<[unknown, string]> = [[value, root]];
  while (stack.length > 0 && problems.length < fieldsMax) {
    const [v, path] = stack.pop()!;
    if (v === BAD_KEY) problems.push({ path, message: `key ${UNSTORABLE_TEXT_MESSAGE}` });
    else if (typeof v === 'string') {
      if (!isStorableText(v)) problems.push({ path: path || '(root)', message: UNSTORABLE_TEXT_MESSAGE });
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], join(path, String(i))]);
    } else if (typeof v === 'object' && v !== null) {
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!;
        stack.push(isStorableText(key) ? [child, join(path, key)] : [BAD_KEY, join(path, key)]);
      }
    }
  }
  return problems;
}

/** Nesting depth of a JSON value (a scalar is 0), counted no further than `limit + 1`. Iterative. */
export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > limit) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}
