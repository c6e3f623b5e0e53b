/** Shared OpenAPI pieces: the hook that turns zod failures into our validation problem, and schemas. */
import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Hook } from '@hono/zod-openapi';
import { AppError } from '../shared/errors.js';
import type { ApiEnv } from './deps.js';
import { zodFields } from '../shared/zod-fields.js';
import { unstorableFields } from '../shared/text-hygiene.js';

const TARGET_PREFIX: Record<string, string> = { json: '', param: 'path', query: 'query', header: 'header' };

/**
 * The one judge of every zod-validated input (path, query, headers, JSON body) of every route:
 * schema failures and text Postgres cannot store (NUL, unpaired surrogates; src/shared/text-hygiene.ts)
 * become one `validation_failed` naming every bad field of the target.
 */
export const validationHook: Hook<unknown, ApiEnv, string, unknown> = (result) => {
  const prefix = TARGET_PREFIX[result.target] ?? result.target;
  // On failure `data` is the raw input (the validator passes it through); on success it is the parsed
  // value, i.e. exactly what the handler will store.
  const hygiene = unstorableFields((result as { data?: unknown }).data, prefix);
  if (!result.success || hygiene.length > 0) {
    const schemaFields = result.success ? [] : zodFields(result.error, prefix);
    // One entry per field: a value the schema already refused is not named twice.
    const named = new Set(schemaFields.map((f) => f.path));
    const fields = [...schemaFields, ...hygiene.filter((f) => !named.has(f.path))];
    throw new AppError('validation_failed', 'The request is not valid', { fields });
  }
};

export function router(): OpenAPIHono<ApiEnv> {
  return new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
}

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string(),
    detail: z.string(),
    requestId: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

export const problemResponses = {
  400: { description: 'Invalid request', content: { 'application/problem+json': { schema: ProblemSchema } } },
  401: { description: 'Not authenticated', content: { 'application/problem+json': { schema: ProblemSchema } } },
  403: { description: 'Not allowed', content: { 'application/problem+json': { schema: ProblemSchema } } },
  404: { description: 'Not found', content: { 'application/problem+json': { schema: ProblemSchema } } },
  409: { description: 'Idempotency conflict', content: { 'application/problem+json': { schema: ProblemSchema } } },
} as const;

export const IdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$/, 'must be 3–64 characters of letters, digits, _ or -');
export const TeamIdParam = z.object({ teamId: IdSchema.openapi({ param: { name: 'teamId', in: 'path' }, example: 'team_xyz' }) });
