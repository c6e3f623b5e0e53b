/**
 * Failures of the embedded services that the person starting them can act on. The launcher, the test
 * runner and CI print one line for them: what failed, why, and what to do, with no stack trace.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';

/** What failed, why and what to do, in one sentence; printed as is. */
export class StartupError extends Error {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, opts);
    this.name = 'StartupError';
  }
}

/** Node's system errors carry a code (EACCES, EROFS…) that says why in a word. */
export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/**
 * One line for any failure at start: a StartupError's own sentence, otherwise the message with its
 * cause's, so even an unexpected error ends the output with something readable.
 */
export function startupFailureLine(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err instanceof StartupError) return err.message;
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`.replace(/\s*\n\s*/g, '; ');
}

/** True when the line alone says enough; otherwise the stack is worth printing before it. */
export function isExpectedStartupFailure(err: unknown): boolean {
  return err instanceof StartupError || (err instanceof Error && err.name === 'ToolMissingError');
}

/** Creates `path` (and its parents) for the embedded services, or says in one line why it cannot. */
export function makeFolder(path: string, envVar = 'BILLING_DATA_DIR'): void {
  try {
    mkdirSync(path, { recursive: true });
    accessSync(path, constants.W_OK);
  } catch (err) {
    const why = errorCode(err) ?? (err as Error).message;
    throw new StartupError(
      `Cannot create or write ${path} (${why}); point ${envVar} at a writable folder`,
      { cause: err },
    );
  }
}
