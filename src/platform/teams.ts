/**
 * Teams (who pays) and which apps may act for them. Creating a team is idempotent by its id; the
 * same id with a different payload is a conflict, never a silent update.
 */
import type { Queryable, Sql } from '../shared/db.js';
import { inTransaction } from '../shared/db.js';
import { requestHash } from '../shared/crypto.js';
import { AppError, idempotencyConflict, notFound } from '../shared/errors.js';
import { audit } from './apps.js';
import { stripeCustomerOf } from './billing-customer-store.js';

export type TeamKind = 'personal' | 'shared';
export type LateUsagePolicy = 'adjust' | 'reject';

export interface TeamInput {
  teamId: string;
  name: string;
  kind: TeamKind;
  externalRef?: string | undefined;
  currency: string;
  lateUsagePolicy?: LateUsagePolicy | undefined;
  appIds?: string[] | undefined;
  /** The test clock the team lives on (its time, periods and processes follow the clock); fixed at creation. */
  testClockId?: string | undefined;
}

export interface TeamView {
  teamId: string;
  name: string;
  kind: TeamKind;
  externalRef: string | null;
  currency: string;
  lateUsagePolicy: LateUsagePolicy;
  appIds: string[];
  stripeCustomerId: string | null;
  testClockId: string | null;
  createdAt: string;
}

export async function createTeam(sql: Sql, input: TeamInput, actor: string): Promise<{ team: TeamView; replayed: boolean }> {
  // Without a clock the hash is as before clocks existed, so replays of earlier creations still match.
  const { testClockId, ...rest } = input;
  const normalized = { ...rest, lateUsagePolicy: input.lateUsagePolicy ?? 'adjust', appIds: [...new Set(input.appIds ?? [])].sort(), ...(testClockId ? { testClockId } : {}) };
  const hash = requestHash(normalized);
  const replayed = await inTransaction(sql, async (tx) => {
    const inserted = await tx`
      insert into teams (id, name, kind, external_ref, currency, late_usage_policy, request_hash, test_clock_id)
      values (${input.teamId}, ${input.name}, ${input.kind}, ${input.externalRef ?? null}, ${input.currency},
              ${normalized.lateUsagePolicy}, ${hash}, ${input.testClockId ?? null})
      on conflict (id) do nothing
      returning id`.catch((err: { code?: string; constraint_name?: string }) => {
      if (err.code === '23505' && err.constraint_name === 'teams_external_ref_key') {
        throw new AppError('conflict', `Another team already has externalRef "${input.externalRef}"`);
      }
      if (err.code === '23503' && err.constraint_name === 'teams_test_clock_id_fkey') {
        throw new AppError('validation_failed', 'Unknown test clock', { fields: [{ path: 'testClockId', message: `Test clock ${input.testClockId} does not exist` }] });
      }
      throw err;
    });
    if (inserted.length === 0) {
      const [existing] = await tx<{ request_hash: Buffer }[]>`select request_hash from teams where id = ${input.teamId}`;
      if (!existing!.request_hash.equals(hash)) throw idempotencyConflict(input.teamId);
      return true;
    }
    if (normalized.appIds.length > 0) {
      const known = await tx<{ id: string }[]>`select id from apps where id in ${tx(normalized.appIds)}`;
      const missing = normalized.appIds.filter((id) => !known.some((k) => k.id === id));
      if (missing.length > 0) {
        throw new AppError('validation_failed', 'Unknown apps', {
          fields: missing.map((id) => ({ path: `appIds.${normalized.appIds.indexOf(id)}`, message: `App ${id} does not exist` })),
        });
      }
      await tx`insert into team_apps ${tx(normalized.appIds.map((appId) => ({ team_id: input.teamId, app_id: appId })))}`;
    }
    await audit(tx, actor, 'team.created', input.teamId, { kind: input.kind, currency: input.currency });
    return false;
  });
  return { team: await getTeam(sql, input.teamId), replayed };
}

/** Lets `appId` act for `teamId`. Idempotent: connecting twice is the same as once. */
export async function connectApp(sql: Sql, teamId: string, appId: string, actor: string): Promise<TeamView> {
  await inTransaction(sql, async (tx) => {
    const [team] = await tx`select id from teams where id = ${teamId}`;
    if (!team) throw notFound(`Team ${teamId}`);
    const [app] = await tx`select id from apps where id = ${appId}`;
    if (!app) throw notFound(`App ${appId}`);
    const rows = await tx`insert into team_apps (team_id, app_id) values (${teamId}, ${appId}) on conflict do nothing returning team_id`;
    if (rows.length > 0) await audit(tx, actor, 'team.app_connected', teamId, { appId });
  });
  return getTeam(sql, teamId);
}

export async function getTeam(sql: Queryable, teamId: string): Promise<TeamView> {
  const [row] = await sql<
    {
      name: string;
      kind: TeamKind;
      external_ref: string | null;
      currency: string;
      late_usage_policy: LateUsagePolicy;
      created_at: Date;
      test_clock_id: string | null;
      app_ids: string[];
    }[]
  >`
    select t.name, t.kind, t.external_ref, t.currency, t.late_usage_policy, t.created_at, t.test_clock_id,
           coalesce(array(select app_id from team_apps ta where ta.team_id = t.id order by app_id), '{}') as app_ids
    from teams t
    where t.id = ${teamId}`;
  if (!row) throw notFound(`Team ${teamId}`);
  return {
    teamId,
    name: row.name,
    kind: row.kind,
    externalRef: row.external_ref,
    currency: row.currency,
    lateUsagePolicy: row.late_usage_policy,
    appIds: row.app_ids,
    stripeCustomerId: await stripeCustomerOf(sql, teamId),
    testClockId: row.test_clock_id,
    createdAt: row.created_at.toISOString(),
  };
}

/** Whether `appId` may act for `teamId` (the hot-path check behind every app request). */
export async function isTeamConnected(sql: Queryable, appId: string, teamId: string): Promise<boolean> {
  const rows = await sql`select 1 from team_apps where app_id = ${appId} and team_id = ${teamId}`;
  return rows.length > 0;
}
