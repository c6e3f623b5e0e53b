/**
 * How errors thrown in handlers become problems: a dependency that is down answers 503 (the client
 * retries), not a 500, however deep the client library wrapped the cause.
 */
import { ServiceError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { toAppError } from '../../src/api/problem.js';

const grpcStatus = (code: number, details: string) => Object.assign(new Error(`${code} ${details}`), { code, details });

describe('toAppError', () => {
  it('answers 503 dependency_unavailable when the Temporal client wraps a gRPC UNAVAILABLE', () => {
    const err = new ServiceError('Failed to start Workflow', { cause: grpcStatus(14, 'Namespace default is unavailable') });
    const problem = toAppError(err);
    expect(problem.code).toBe('dependency_unavailable');
    expect(problem.message).toBe('Temporal is unavailable');
  });

  it('answers 503 dependency_unavailable when a Postgres connection error sits in the cause chain', () => {
    const err = new Error('provisioning failed', { cause: Object.assign(new Error('terminating connection'), { code: '57P01' }) });
    expect(toAppError(err).code).toBe('dependency_unavailable');
  });

  it('keeps an unknown error an internal_error', () => {
    expect(toAppError(new Error('boom')).code).toBe('internal_error');
    expect(toAppError(Object.assign(new Error('odd'), { code: 99 })).code).toBe('internal_error');
  });
});
