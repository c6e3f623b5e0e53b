/**
 * Zod issues as our FieldErrors: one per bad field, paths dotted from `prefix`. Shared by the api's
 * request validation, the usage batch validation and the catalog file, so every caller names a bad
 * field the same way.
 */
import type { z } from 'zod';
import type { FieldError } from './errors.js';

export function zodFields(error: z.ZodError, prefix = ''): FieldError[] {
  const dotted = (parts: PropertyKey[]) => [prefix, ...parts.map(String)].filter((p) => p !== '').join('.') || '(root)';
  return error.issues.flatMap((issue) =>
    // An unknown key is reported at the key itself, one entry per key.
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: dotted([...issue.path, key]), message: 'Unknown field' }))
      : [{ path: dotted(issue.path), message: issue.message }],
  );
}
