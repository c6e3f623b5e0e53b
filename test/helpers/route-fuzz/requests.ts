/**
 * One fuzz request per call, built from an operation of the OpenAPI document: most carry at least
 * one defect (in the credential, a path or query parameter, or the body) that the service must refuse
 * with a 4xx; some are well-formed reads (any answer but a 5xx); some are stray (an unknown path, a
 * method a path does not have, a body over the limit).
 */
import fc from 'fast-check';
import { LIMITS } from '../../../src/shared/limits.js';
import type { Operation, Parameter } from './operations.js';
import { defectsAt, matching, pick, valueFor, type Defect, type NamedValues, type Site } from './schema-values.js';

type G = fc.GeneratorValue;

/** Credentials a request may carry, refreshed by the caller before they expire. */
export interface Credentials {
  admin: string;
  /** Every scope, for the seeded team. */
  app: string;
  appNoScopes: string;
  appOtherTeam: string;
  appWrongSecret: string;
  appExpired: string;
  appAlgNone: string;
}

export type Expectation = 'rejected' | 'answered' | 'parked';

export interface FuzzRequest {
  kind: 'defective' | 'read' | 'stray' | 'webhook';
  /** `GET /v1/teams/{teamId}`: the operation, for coverage. */
  operation: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  defects: string[];
  expect: Expectation;
}

/** Path parameter values no route may accept (each breaks the NUL rule or any id pattern). */
const BAD_PATH_VALUES = ['%00', 'a%00b', 'x'.repeat(80), 'a%20b', '%ED%A0%80', '%2F%2F', '-', '%F0%9F%98%80'];

function pathDefect(g: G, p: Parameter): string {
  const constrained = p.schema.pattern !== undefined || p.schema.format !== undefined || p.schema.enum !== undefined;
  // Without a pattern only NUL is certain to be refused (by the validation hook).
  return constrained ? pick(g, BAD_PATH_VALUES) : pick(g, ['%00', 'a%00b']);
}

function queryDefect(g: G, p: Parameter, value: string | undefined): Array<[string, string]> | 'omit' {
  const s = p.schema;
  const options: Array<Array<[string, string]> | 'omit'> = [[[p.name, `${value ?? ''}\u0000`]], [[p.name, value ?? 'x'], [p.name, value ?? 'y']]];
  if (p.required) options.push('omit');
  if (s.enum) options.push([[p.name, 'not-a-listed-value']]);
  if (s.type === 'integer' || s.type === 'number') options.push([[p.name, pick(g, ['abc', '1e999', '-', '1.5', 'NaN'])]]);
  if (s.maximum !== undefined) options.push([[p.name, String(s.maximum + 1)]]);
  if (s.minimum !== undefined) options.push([[p.name, String(s.minimum - 1)]]);
  if (s.maxLength !== undefined) options.push([[p.name, 'a'.repeat(s.maxLength + 1)]]);
  return pick(g, options);
}

function authHeader(g: G, op: Operation, creds: Credentials, defective: boolean): { header?: string; defect?: string } {
  if (op.security === 'none') return {};
  if (!defective) return { header: `Bearer ${op.security === 'adminBearer' ? creds.admin : creds.app}` };
  const admin = op.security === 'adminBearer';
  const options: Array<[string, string | undefined]> = [
    ['no credential', undefined],
    ['garbage bearer', 'Bearer not.a.jwt'],
    ['basic scheme', 'Basic YWRtaW46YWRtaW4='],
    [admin ? 'app token on an admin route' : 'admin token on an app route', `Bearer ${admin ? creds.app : creds.admin}`],
  ];
  if (!admin) {
    options.push(['token without scopes', `Bearer ${creds.appNoScopes}`], ['token signed with another secret', `Bearer ${creds.appWrongSecret}`]);
    options.push(['expired token', `Bearer ${creds.appExpired}`], ['alg none', `Bearer ${creds.appAlgNone}`]);
    if (op.path.includes('{teamId}')) options.push(['token of another team', `Bearer ${creds.appOtherTeam}`]);
  } else options.push(['wrong admin token', `Bearer ${creds.admin}x`]);
  const [defect, header] = pick(g, options);
  return header === undefined ? { defect } : { header, defect };
}

type Category = 'auth' | 'path' | 'query' | 'body';

/** Where a defect may go, weighted towards the inputs with the most constraints to break. */
function categories(op: Operation, sites: Site[]): Category[] {
  const out: Category[] = [];
  if (op.security !== 'none') out.push('auth', 'auth');
  if (op.parameters.some((p) => p.in === 'path')) out.push('path', 'path');
  if (op.parameters.some((p) => p.in === 'query')) out.push('query', 'query', 'query');
  if (op.body && sites.length > 0) out.push('body', 'body', 'body', 'body', 'body');
  return out;
}

/** Whether a request to `op` can carry a defect at all (a credential, a parameter or a body to break). */
export function canBreak(op: Operation): boolean {
  return op.security !== 'none' || op.parameters.some((p) => p.in !== 'header') || op.body !== undefined;
}

/** A request for `op`; `defective` picks one defect it must be refused for. */
export function operationRequest(g: G, op: Operation, named: NamedValues, creds: Credentials, defective: boolean): FuzzRequest {
  const defects: string[] = [];
  const sites: Site[] = [];
  const body = op.body ? valueFor(g, op.body, named, sites) : undefined;
  const values = new Map<Parameter, string>();
  for (const p of op.parameters) {
    if (p.in === 'header' && p.name.toLowerCase() === 'idempotency-key') values.set(p, g(fc.uuid));
    else if (p.required || g(fc.boolean)) values.set(p, String(valueFor(g, p.schema, named, [], [], p.name)));
  }
  const possible = categories(op, sites);
  if (defective && possible.length === 0) throw new Error(`${op.method} ${op.path} takes no input a defect could break`);
  const category = defective ? pick(g, possible) : undefined;

  const auth = authHeader(g, op, creds, category === 'auth');
  if (auth.defect) defects.push(`auth: ${auth.defect}`);

  const pathParams = op.parameters.filter((p) => p.in === 'path');
  // Picked by index: `gen` may hand back a copy of an object, which would never be `===` the parameter.
  const badPath = category === 'path' ? pathParams[g(fc.nat, { max: pathParams.length - 1 })] : undefined;
  let path = op.path;
  for (const p of pathParams) {
    const raw = p === badPath ? pathDefect(g, p) : encodeURIComponent(values.get(p) ?? 'x');
    if (p === badPath) defects.push(`path ${p.name} = ${raw}`);
    path = path.replace(`{${p.name}}`, raw);
  }

  const queryParams = op.parameters.filter((p) => p.in === 'query');
  const badQuery = category === 'query' ? queryParams[g(fc.nat, { max: queryParams.length - 1 })] : undefined;
  const query = new URLSearchParams();
  for (const p of queryParams) {
    if (p === badQuery) {
      const defect = queryDefect(g, p, values.get(p));
      defects.push(`query ${p.name}: ${defect === 'omit' ? 'required, omitted' : JSON.stringify(defect)}`);
      if (defect !== 'omit') for (const [k, v] of defect) query.append(k, v);
    } else if (values.has(p)) query.append(p.name, values.get(p)!);
  }

  let raw = body === undefined ? undefined : JSON.stringify(body);
  if (category === 'body') ({ raw } = bodyDefect(g, body, sites, defects));

  const headers: Record<string, string> = {};
  if (auth.header) headers.authorization = auth.header;
  for (const p of op.parameters) if (p.in === 'header' && values.has(p)) headers[p.name] = values.get(p)!;
  if (raw !== undefined) headers['content-type'] = 'application/json';
  const qs = query.toString();
  return {
    kind: defective ? 'defective' : 'read',
    operation: `${op.method} ${op.path}`,
    method: op.method,
    url: `${path}${qs ? `?${qs}` : ''}`,
    headers,
    body: raw,
    defects,
    expect: defective ? 'rejected' : 'answered',
  };
}

function deeplyNested(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

function bodyDefect(g: G, body: unknown, sites: Site[], defects: string[]): { raw: string } {
  const valid = JSON.stringify(body);
  const rootKind = g(fc.integer, { min: 0, max: 9 });
  if (rootKind === 0) {
    defects.push('body: malformed JSON');
    return { raw: pick(g, [valid.slice(0, Math.max(1, valid.length - 1)), `${valid},`, `{${valid}`, "{'a': 1}", '{"a":1}}', '\u0000']) };
  }
  if (rootKind === 1) {
    const raw = pick(g, ['', '[]', 'null', '"text"', '12', 'true', deeplyNested(g(fc.integer, { min: 100, max: 20_000 }))]);
    defects.push(`body: not an object (${raw.slice(0, 20)})`);
    return { raw };
  }
  const site: Site = pick(g, sites);
  const current = site.path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], body);
  const possible: Defect[] = defectsAt(g, site, current);
  if (possible.length === 0) {
    defects.push('body: malformed JSON');
    return { raw: `${valid}x` };
  }
  const defect = pick(g, possible);
  defects.push(`body ${defect.at}: ${defect.kind}`);
  return { raw: JSON.stringify(defect.apply(body)) };
}

/** A request no route should take: an unknown path, a method a path does not have, or a body over the limit. */
export function strayRequest(g: G, ops: Operation[], creds: Credentials): FuzzRequest {
  const op = pick(g, ops);
  const headers: Record<string, string> = { authorization: `Bearer ${op.security === 'appJwt' ? creds.app : creds.admin}` };
  const concrete = op.path.replace(/\{[^}]+\}/g, 'abc_123');
  const kind = g(fc.integer, { min: 0, max: 3 });
  if (kind === 0) {
    const taken = new Set(ops.filter((o) => o.path === op.path).map((o) => o.method));
    const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].filter((m) => !taken.has(m) && !(m === 'HEAD' && taken.has('GET')));
    const method = pick(g, methods);
    return { kind: 'stray', operation: `${method} ${op.path}`, method, url: concrete, headers, body: undefined, defects: [`method ${method} not offered`], expect: 'rejected' };
  }
  if (kind === 1) {
    const url = pick(g, [`${concrete}/nothing`, `/v1/${g(matching, '^[a-z]{1,12}$')}`, `${concrete}%00`, `/${'a/'.repeat(2000)}`, '/%ED%A0%80']);
    return { kind: 'stray', operation: 'unknown path', method: 'GET', url, headers, body: undefined, defects: ['unknown path'], expect: 'rejected' };
  }
  if (kind === 2 && op.method === 'POST') {
    const raw = `{"x":"${'x'.repeat(LIMITS.requestBodyBytesMax)}"}`;
    return { kind: 'stray', operation: `${op.method} ${op.path}`, method: 'POST', url: concrete, headers: { ...headers, 'content-type': 'application/json' }, body: raw, defects: ['body over LIMITS.requestBodyBytesMax'], expect: 'rejected' };
  }
  const bad = pick(g, ['a\u0000b', '\u0000']);
  return { kind: 'stray', operation: 'unknown path', method: 'GET', url: `/v1/${encodeURIComponent(bad)}`, headers, body: undefined, defects: ['NUL in an unknown path'], expect: 'rejected' };
}
