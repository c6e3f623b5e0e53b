/**
 * The operations a route fuzzer exercises, read from the OpenAPI document the app serves, so a route
 * added later is fuzzed without editing the fuzzer. `$ref`s are resolved in place.
 */

/** The JSON Schema subset @hono/zod-openapi emits. */
export interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  default?: unknown;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: Schema;
}

export type Security = 'appJwt' | 'adminBearer' | 'none';

export interface Operation {
  method: string;
  /** OpenAPI form: `/v1/teams/{teamId}/usage`. */
  path: string;
  security: Security;
  parameters: Parameter[];
  /** The JSON body's schema, or undefined when the operation takes none. */
  body: Schema | undefined;
  bodyRequired: boolean;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, {
    security?: Array<Record<string, unknown>>;
    parameters?: Array<{ name: string; in: string; required?: boolean; schema: Schema }>;
    requestBody?: { required?: boolean; content?: Record<string, { schema: Schema }> };
  }>>;
  components?: { schemas?: Record<string, Schema> };
}

function resolver(doc: OpenApiDocument): (s: Schema) => Schema {
  const schemas = doc.components?.schemas ?? {};
  const resolve = (s: Schema, depth = 0): Schema => {
    if (depth > 20) throw new Error('OpenAPI schema nests too deeply for the fuzzer');
    const base = s.$ref ? resolve(schemas[s.$ref.replace('#/components/schemas/', '')] ?? {}, depth + 1) : s;
    const out: Schema = { ...base };
    if (base.items) out.items = resolve(base.items, depth + 1);
    if (base.properties) out.properties = Object.fromEntries(Object.entries(base.properties).map(([k, v]) => [k, resolve(v, depth + 1)]));
    if (base.additionalProperties && typeof base.additionalProperties === 'object') out.additionalProperties = resolve(base.additionalProperties, depth + 1);
    for (const key of ['anyOf', 'oneOf', 'allOf'] as const) if (base[key]) out[key] = base[key]!.map((b) => resolve(b, depth + 1));
    return out;
  };
  return resolve;
}

/** Every operation of the document, with schemas resolved. */
export function operationsOf(doc: OpenApiDocument): Operation[] {
  const resolve = resolver(doc);
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const scheme = Object.keys(op.security?.[0] ?? {})[0];
      const json = op.requestBody?.content?.['application/json'];
      ops.push({
        method: method.toUpperCase(),
        path,
        security: scheme === 'appJwt' || scheme === 'adminBearer' ? scheme : 'none',
        parameters: (op.parameters ?? [])
          .filter((p): p is Parameter => p.in === 'path' || p.in === 'query' || p.in === 'header')
          .map((p) => ({ name: p.name, in: p.in as Parameter['in'], required: p.required ?? p.in === 'path', schema: resolve(p.schema) })),
        body: json ? resolve(json.schema) : undefined,
        bodyRequired: op.requestBody?.required ?? false,
      });
    }
  }
  return ops;
}

/** The JSON types a schema admits (`integer` counts as a number type). */
export function admittedTypes(s: Schema): Set<string> | undefined {
  if (s.anyOf || s.oneOf) {
    const all = new Set<string>();
    for (const b of s.anyOf ?? s.oneOf ?? []) {
      const t = admittedTypes(b);
      if (!t) return undefined;
      t.forEach((x) => all.add(x));
    }
    return all;
  }
  if (s.enum) return new Set(s.enum.map((v) => (v === null ? 'null' : typeof v)).map((t) => (t === 'number' ? 'number' : t)));
  if (s.type === undefined) return undefined;
  const types = Array.isArray(s.type) ? s.type : [s.type];
  return new Set(types.map((t) => (t === 'integer' ? 'number' : t)));
}
