/**
 * Which plan version prices a team's usage, over time. The subscription and contract processes
 * assign (closing the previous assignment); usage reports and period close read the assignments
 * that cover a period, so a plan change mid-period prices each part of the usage by its own plan.
 */
import { withinTransaction, type Queryable, type TxSql } from '../shared/db.js';
import { AppError, idempotencyConflict, notFound, validationError } from '../shared/errors.js';
import { LIMITS } from '../shared/limits.js';
import { audit } from '../platform/apps.js';
import { findPlanVersion, planVersionFromRow, type PlanVersion } from './plan-versions.js';
import type { PlanVersionContent } from './schema.js';

export type AssignmentSource = 'subscription' | 'contract' | 'manual';

export interface TeamPlanAssignment {
  id: string;
  teamId: string;
  planVersionId: string;
  effectiveFrom: string;
  /** null while the assignment is current (open-ended). */
  effectiveTo: string | null;
  source: AssignmentSource;
  sourceRef: string | null;
  createdAt: string;
}

export interface AssignTeamPlanInput {
  teamId: string;
  planVersionId: string;
  effectiveFrom: Date | string;
  source: AssignmentSource;
  /** The subscription or contract id behind the assignment. */
  sourceRef?: string | null;
}

interface AssignmentRow {
  id: bigint;
  team_id: string;
  plan_version_id: string;
  effective_from: Date;
  effective_to: Date | null;
  source: AssignmentSource;
  source_ref: string | null;
  created_at: Date;
}

function toAssignment(row: AssignmentRow): TeamPlanAssignment {
  return {
    id: row.id.toString(),
    teamId: row.team_id,
    planVersionId: row.plan_version_id,
    effectiveFrom: row.effective_from.toISOString(),
    effectiveTo: row.effective_to?.toISOString() ?? null,
    source: row.source,
    sourceRef: row.source_ref,
    createdAt: row.created_at.toISOString(),
  };
}

function instant(value: Date | string, field: string): Date {
  const d = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(d.getTime())) throw validationError([{ path: field, message: 'must be an ISO-8601 instant' }]);
  return d;
}

const sameSource = (row: AssignmentRow, input: AssignTeamPlanInput) =>
  row.plan_version_id === input.planVersionId && row.source === input.source && row.source_ref === (input.sourceRef ?? null);

/** Advisory-lock namespace (two-key form) of "assignments of one team"; the key is a hash of the team id. */
const TEAM_PLAN_LOCK_NAMESPACE = 727_003;

/**
 * Serialises assignment changes of one team until the transaction ends. An advisory lock rather
 * than a row lock on teams: the application role may read teams but not update (hence not lock) them.
 */
async function lockTeam(tx: TxSql, teamId: string): Promise<{ currency: string }> {
  await tx`select pg_advisory_xact_lock(${TEAM_PLAN_LOCK_NAMESPACE}, hashtext(${teamId}))`;
  const [team] = await tx<{ currency: string }[]>`select currency from teams where id = ${teamId}`;
  if (!team) throw notFound(`Team ${teamId}`);
  return team;
}

async function latestAssignment(tx: TxSql, teamId: string): Promise<AssignmentRow | undefined> {
  const [row] = await tx<AssignmentRow[]>`
    select * from team_plan_assignments where team_id = ${teamId} order by effective_from desc limit 1`;
  return row;
}

/**
 * Makes `planVersionId` price the team's usage from `effectiveFrom` on, closing the current
 * assignment at that instant. Idempotent: the same (team, effectiveFrom) with the same version and
 * source returns the stored assignment, and re-assigning the current version changes nothing.
 * Assignments are appended in time order; one that would start inside an earlier one is a conflict.
 */
export async function assignTeamPlan(db: Queryable, input: AssignTeamPlanInput, actor: string): Promise<{ assignment: TeamPlanAssignment; created: boolean }> {
  const from = instant(input.effectiveFrom, 'effectiveFrom');
  return withinTransaction(db, async (tx) => {
    const team = await lockTeam(tx, input.teamId);
    const version = await findPlanVersion(tx, input.planVersionId);
    if (!version) throw validationError([{ path: 'planVersionId', message: `Plan version ${input.planVersionId} does not exist` }]);
    if (version.currency !== team.currency) {
      throw validationError([{ path: 'planVersionId', message: `Plan version ${version.id} is priced in ${version.currency}; team ${input.teamId} pays in ${team.currency}` }]);
    }
    const [same] = await tx<AssignmentRow[]>`
      select * from team_plan_assignments where team_id = ${input.teamId} and effective_from = ${from}`;
    if (same) {
      if (!sameSource(same, input)) throw idempotencyConflict(`${input.teamId}@${from.toISOString()}`);
      return { assignment: toAssignment(same), created: false };
    }
    const latest = await latestAssignment(tx, input.teamId);
    if (latest) {
      if (latest.effective_from > from) {
        throw new AppError('conflict', `Team ${input.teamId} already has an assignment from ${latest.effective_from.toISOString()}; assignments are appended in time order`);
      }
      if (latest.effective_to === null && sameSource(latest, input)) return { assignment: toAssignment(latest), created: false };
      if (latest.effective_to === null) {
        await tx`update team_plan_assignments set effective_to = ${from} where id = ${latest.id}`;
      } else if (latest.effective_to > from) {
        throw new AppError('conflict', `Team ${input.teamId} has an assignment until ${latest.effective_to.toISOString()}; a new one cannot start inside it`);
      }
    }
    const [row] = await tx<AssignmentRow[]>`
      insert into team_plan_assignments (team_id, plan_version_id, effective_from, source, source_ref, created_by)
      values (${input.teamId}, ${input.planVersionId}, ${from}, ${input.source}, ${input.sourceRef ?? null}, ${actor})
      returning *`;
    await audit(tx, actor, 'team.plan_assigned', input.teamId, { planVersionId: input.planVersionId, effectiveFrom: from.toISOString(), source: input.source });
    return { assignment: toAssignment(row!), created: true };
  });
}

/**
 * Ends the team's current assignment at `effectiveTo` (a subscription ended, nothing replaces it).
 * Idempotent: ending it again at the same instant returns it unchanged.
 */
export async function endTeamPlan(db: Queryable, input: { teamId: string; effectiveTo: Date | string }, actor: string): Promise<TeamPlanAssignment> {
  const to = instant(input.effectiveTo, 'effectiveTo');
  return withinTransaction(db, async (tx) => {
    await lockTeam(tx, input.teamId);
    const latest = await latestAssignment(tx, input.teamId);
    if (!latest) throw notFound(`A plan assignment of team ${input.teamId}`);
    if (latest.effective_to !== null) {
      if (latest.effective_to.getTime() === to.getTime()) return toAssignment(latest);
      throw new AppError('conflict', `Team ${input.teamId}'s last assignment already ended at ${latest.effective_to.toISOString()}`);
    }
    if (to <= latest.effective_from) throw validationError([{ path: 'effectiveTo', message: `must be after the assignment's start (${latest.effective_from.toISOString()})` }]);
    const [row] = await tx<AssignmentRow[]>`update team_plan_assignments set effective_to = ${to} where id = ${latest.id} returning *`;
    await audit(tx, actor, 'team.plan_ended', input.teamId, { planVersionId: latest.plan_version_id, effectiveTo: to.toISOString() });
    return toAssignment(row!);
  });
}

export interface TeamPrices {
  assignment: TeamPlanAssignment;
  planVersion: PlanVersion;
}

type JoinedRow = AssignmentRow & { version: number; content: PlanVersionContent; published_at: Date; plan_code: string };

function toTeamPrices(row: JoinedRow): TeamPrices {
  return {
    assignment: toAssignment(row),
    planVersion: planVersionFromRow({ ...row, id: row.plan_version_id }),
  };
}

/** The plan version that prices the team's usage at `at`, with its assignment; null when none does. */
export async function pricesForTeam(db: Queryable, teamId: string, at: Date | string): Promise<TeamPrices | null> {
  const t = instant(at, 'at');
  const [row] = await db<JoinedRow[]>`
    select a.*, v.plan_code, v.version, v.content, v.published_at
    from team_plan_assignments a join plan_versions v on v.id = a.plan_version_id
    where a.team_id = ${teamId} and a.effective_from <= ${t} and (a.effective_to is null or a.effective_to > ${t})`;
  return row ? toTeamPrices(row) : null;
}

export interface PricedSegment extends TeamPrices {
  /** The part of the asked range this assignment covers: [from, to). */
  from: string;
  to: string;
}

/**
 * The assignments that price the team's usage during [from, to), in time order, each clipped to
 * the range. Gaps (no plan) are simply absent. What period close iterates over.
 */
export async function assignmentsForTeam(db: Queryable, teamId: string, from: Date | string, to: Date | string): Promise<PricedSegment[]> {
  const [start, end] = [instant(from, 'from'), instant(to, 'to')];
  if (end <= start) throw validationError([{ path: 'to', message: 'must be after from' }]);
  const rows = await db<JoinedRow[]>`
    select a.*, v.plan_code, v.version, v.content, v.published_at
    from team_plan_assignments a join plan_versions v on v.id = a.plan_version_id
    where a.team_id = ${teamId} and a.effective_from < ${end} and (a.effective_to is null or a.effective_to > ${start})
    order by a.effective_from
    limit ${LIMITS.pageSizeMax}`;
  return rows.map((row) => ({
    ...toTeamPrices(row),
    from: (row.effective_from > start ? row.effective_from : start).toISOString(),
    to: (row.effective_to !== null && row.effective_to < end ? row.effective_to : end).toISOString(),
  }));
}
