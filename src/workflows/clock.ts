/**
 * Workflow time. Inside Temporal's sandbox `Date.now()` is the start time of the current workflow
 * task, recorded in history, so it replays identically; this is the only place workflows read it.
 */
export function nowMs(): number {
  // eslint-disable-next-line no-restricted-properties -- deterministic in the workflow sandbox (see above)
  return Date.now();
}

export function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

export function ms(isoTime: string): number {
  return Date.parse(isoTime);
}

/** Stripe keeps time in whole seconds; periods start on a whole second so both sides name them alike. */
export function wholeSecond(epochMs: number): number {
  return Math.floor(epochMs / 1000) * 1000;
}

/** Whether two instants fall in the same second (how Stripe's timestamps compare to ours). */
export function sameSecond(a: string, b: string): boolean {
  return Math.floor(ms(a) / 1000) === Math.floor(ms(b) / 1000);
}
