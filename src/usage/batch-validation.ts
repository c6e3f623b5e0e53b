/**
 * Validation of a `POST /v1/usage` body, all or nothing: every bad event is named by index and field
 * (`events.3.payload.inputTokens`) and a batch with any bad event is rejected whole, before anything
 * is written. A valid event comes out normalised: timestamp in ms, its request hash (what a resend
 * must match) and its meter quantities.
 */
import { z } from 'zod';
import { requestHash } from '../shared/crypto.js';
import { validationError, type FieldError } from '../shared/errors.js';
import { LIMITS } from '../shared/limits.js';
import { zodFields } from '../shared/zod-fields.js';
import { eventType, EVENT_TYPES, meterQuantities } from './event-registry.js';
import type { MeterQuantity } from './event-type.js';
import { parseTimestamp } from './timestamp.js';
import { isStorableText, LONE_SURROGATE, UNSTORABLE_TEXT_MESSAGE } from '../shared/text-hygiene.js';

export interface ValidatedEvent {
  /** Position in the request; results and errors refer to it. */
  index: number;
  idempotencyKey: string;
  eventType: string;
  teamId: string;
  timestampMs: number;
  source: string;
  payload: Record<string, unknown>;
  /** sha256 of the canonical (eventType, timestamp, teamId, payload), hex. `source` is left out on
   *  purpose: an app upgraded between two retries of one event still sends the same event. */
  hash: string;
  quantities: MeterQuantity[];
}

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
// Matching control characters is the point of this expression.
// eslint-disable-next-line no-control-regex
const NO_CONTROL_CHARS = /^[^\x00-\x1f\x7f]+$/;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const EnvelopeSchema = z
  .object({
    idempotencyKey: z
      .string()
      .min(1)
      .max(LIMITS.idempotencyKeyLengthMax)
      .regex(PRINTABLE_ASCII, 'must be printable ASCII without spaces'),
    eventType: z.string().min(1).max(100),
    timestamp: z.string().max(64),
    teamId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$/, 'must be 3–64 characters of letters, digits, _ or -'),
    payload: z.custom<Record<string, unknown>>(isPlainObject, 'must be a JSON object'),
    source: z
      .string()
      .min(1)
      .max(LIMITS.usageSourceLengthMax)
      .regex(NO_CONTROL_CHARS, 'must not contain control characters')
      .refine((s) => !LONE_SURROGATE.test(s), 'must not contain unpaired surrogates'),
  })
  .strict();

const BodySchema = z.object({ events: z.array(z.unknown()).min(1).max(LIMITS.usageBatchEventsMax) }).strict();

/**
 * The first problem of a payload that no schema should have to meet: nesting deeper than
 * LIMITS.usagePayloadDepthMax, or strings Postgres cannot store (NUL, lone surrogates).
 */
function payloadHygiene(value: unknown, path: string, depth: number): FieldError | undefined {
  if (typeof value === 'string') {
    return isStorableText(value) ? undefined : { path, message: UNSTORABLE_TEXT_MESSAGE };
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth > LIMITS.usagePayloadDepthMax) return { path, message: `nests deeper than ${LIMITS.usagePayloadDepthMax} levels (LIMITS.usagePayloadDepthMax)` };
  for (const [key, child] of Object.entries(value)) {
    const childPath = `${path}.${key}`;
    const keyProblem = payloadHygiene(key, childPath, depth);
    if (keyProblem) return keyProblem;
    const problem = payloadHygiene(child, childPath, depth + 1);
    if (problem) return problem;
  }
  return undefined;
}

function validateEvent(raw: unknown, index: number, errors: FieldError[]): ValidatedEvent | undefined {
  const at = `events.${index}`;
  const before = errors.length;
  const envelope = EnvelopeSchema.safeParse(raw);
  if (!envelope.success) errors.push(...zodFields(envelope.error, at));
  // Each field is checked on its own as well, so one bad field does not hide the others.
  const fields = isPlainObject(raw) ? raw : {};
  const timestampMs = typeof fields.timestamp === 'string' ? parseTimestamp(fields.timestamp) : undefined;
  if (typeof fields.timestamp === 'string' && timestampMs === undefined) {
    errors.push({ path: `${at}.timestamp`, message: 'must be an ISO 8601 timestamp with seconds and an offset, e.g. 2026-01-31T12:00:00Z' });
  }
  const type = typeof fields.eventType === 'string' ? eventType(fields.eventType) : undefined;
  if (typeof fields.eventType === 'string' && !type) {
    errors.push({ path: `${at}.eventType`, message: `Unknown event type; known: ${[...EVENT_TYPES.keys()].join(', ')}` });
  }
  let payload: unknown;
  if (type && isPlainObject(fields.payload)) {
    const hygiene = payloadHygiene(fields.payload, `${at}.payload`, 1);
    const parsed = hygiene ? undefined : type.payload.safeParse(fields.payload);
    if (hygiene) errors.push(hygiene);
    else if (!parsed!.success) errors.push(...zodFields(parsed!.error, `${at}.payload`));
    else payload = parsed!.data;
  }
  if (errors.length > before || !envelope.success || !type || timestampMs === undefined) return undefined;
  const e = envelope.data;
  return {
    index,
    idempotencyKey: e.idempotencyKey,
    eventType: e.eventType,
    teamId: e.teamId,
    timestampMs,
    source: e.source,
    payload: e.payload,
    hash: requestHash({ eventType: e.eventType, timestamp: new Date(timestampMs).toISOString(), teamId: e.teamId, payload: e.payload }).toString('hex'),
    quantities: meterQuantities(type, payload),
  };
}

/** The events of a valid body; throws `validation_failed` naming every bad field otherwise. */
export function validateBatch(body: unknown): ValidatedEvent[] {
  const parsed = BodySchema.safeParse(body);
  if (!parsed.success) {
    throw validationError(
      zodFields(parsed.error),
      `The body must be {"events": [...]} with 1 to ${LIMITS.usageBatchEventsMax} events (LIMITS.usageBatchEventsMax)`,
    );
  }
  const errors: FieldError[] = [];
  const events = parsed.data.events.map((raw, index) => validateEvent(raw, index, errors));
  if (errors.length > 0) throw validationError(errors, `${new Set(errors.map((f) => f.path.split('.')[1])).size} event(s) are not valid; nothing was written`);
  return events as ValidatedEvent[];
}
