/**
 * Every error leaves the API as RFC 9457 problem+json with a stable `code` from the shared vocabulary
 * and, for bad input, every bad field named. This is the only place that builds error bodies.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ZodError } from 'zod';
import { AppError, type FieldError } from '../shared/errors.js';
import { zodFields } from '../shared/zod-fields.js';
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_STATUS, ERROR_TITLE, isErrorCode, type ErrorCode } from '../shared/error-codes.js';
import type { ApiEnv } from './deps.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  requestId: string | undefined;
  errors?: FieldError[];
  [extra: string]: unknown;
}

export function problemBody(err: AppError, requestId: string | undefined): Problem {
  const body: Problem = {
    type: `/problems/${err.code}`,
    title: ERROR_TITLE[err.code],
    status: err.status,
    code: err.code,
    detail: err.message,
    requestId,
  };
  if (err.fields?.length) body.errors = err.fields;
  if (err.details) Object.assign(body, { details: err.details });
  return body;
}

export function problemResponse(c: Context<ApiEnv>, err: AppError): Response {
  return new Response(JSON.stringify(problemBody(err, c.get('requestId'))), {
    status: err.status,
    headers: { 'content-type': 'application/problem+json', 'x-request-id': c.get('requestId') ?? '' },
  });
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECT_TIMEOUT', '57P01', '57P03', '53300']);

/**
 * A business failure raised in an activity or workflow (an ApplicationFailure typed with our error
 * vocabulary) reaching the api through a workflow update or result keeps its code: a 409 stays a 409.
 */
function businessFailure(err: unknown): AppError | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof ApplicationFailure && isErrorCode(e.type) && ERROR_STATUS[e.type] < 500) {
      return new AppError(e.type, e.message, { cause: err });
    }
  }
  return undefined;
}

/**
 * Which dependency an error says is down, looking through its causes: the Temporal client wraps
 * the gRPC status (UNAVAILABLE 14, DEADLINE_EXCEEDED 4) in a ServiceError, so the code sits a
 * level or two below what the handler caught.
 */
function unavailableDependency(err: unknown): 'Postgres' | 'Temporal' | undefined {
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return 'Postgres';
    if (typeof code === 'number' && (code === 14 || code === 4)) return 'Temporal';
  }
  return undefined;
}

/** Turns anything thrown by a handler into an AppError; unknown errors become internal_error. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const business = businessFailure(err);
  if (business) return business;
  if (err instanceof ZodError) return new AppError('validation_failed', undefined, { fields: zodFields(err) });
  if (err instanceof HTTPException) {
    if (err.status === 413) return new AppError('payload_too_large', `The body exceeds the limit`);
    if (err.status === 400 && /json/i.test(err.message)) return new AppError('malformed_json', 'The body is not valid JSON');
    if (err.status === 400) return new AppError('validation_failed', err.message);
    if (err.status === 415) return new AppError('unsupported_media_type');
    if (err.status === 404) return new AppError('not_found');
    if (err.status === 401) return new AppError('token_missing', err.message);
  }
  const unavailable = unavailableDependency(err);
  if (unavailable) return new AppError('dependency_unavailable', `${unavailable} is unavailable`, { cause: err });
  return new AppError('internal_error', 'Internal error', { cause: err });
}

export function isServerError(err: AppError): boolean {
  return ERROR_STATUS[err.code] >= 500;
}
