/** Which plan version prices a team over time: appended in order, idempotent, never overlapping, never rewritten. */
import { beforeAll, describe, expect, it } from 'vitest';
import { publishPlanVersion, type PlanVersion } from '../../src/catalog/plan-versions.js';
import { assignmentsForTeam, assignTeamPlan, endTeamPlan, pricesForTeam } from '../../src/catalog/team-plans.js';
import { inTransaction } from '../../src/shared/db.js';
import { createTeam } from '../../src/platform/teams.js';
import { adminSql, appSql, uniqueId } from '../helpers/context.js';
import { planCode, planInput } from './fixtures.js';

let basic: PlanVersion;
let premium: PlanVersion;
let euro: PlanVersion;

beforeAll(async () => {
  basic = (await publishPlanVersion(appSql(), planInput(planCode('basic')), 'test')).version;
  premium = (await publishPlanVersion(appSql(), planInput(planCode('premium'), { baseFee: '99' }), 'test')).version;
  euro = (await publishPlanVersion(appSql(), planInput(planCode('euro'), { currency: 'EUR' }), 'test')).version;
});

async function newTeam(): Promise<string> {
  const teamId = uniqueId('team');
  await createTeam(appSql(), { teamId, name: 'T', kind: 'shared', currency: 'USD' }, 'test');
  return teamId;
}

const t = (day: number) => new Date(Date.UTC(2025, 3, day)); // April 2025
const assign = (teamId: string, version: PlanVersion, day: number, sourceRef = 'sub_1') =>
  assignTeamPlan(appSql(), { teamId, planVersionId: version.id, effectiveFrom: t(day), source: 'subscription', sourceRef }, 'test');

describe('assigning a plan version to a team', () => {
  it('prices the team from the assignment on, and a new assignment closes the previous one at its start', async () => {
    const teamId = await newTeam();
    await assign(teamId, basic, 1);
    const { assignment } = await assign(teamId, premium, 15);
    expect(assignment).toMatchObject({ planVersionId: premium.id, effectiveFrom: t(15).toISOString(), effectiveTo: null, source: 'subscription', sourceRef: 'sub_1' });

    expect(await pricesForTeam(appSql(), teamId, t(0))).toBeNull();
    expect((await pricesForTeam(appSql(), teamId, t(1)))?.planVersion.id).toBe(basic.id);
    expect((await pricesForTeam(appSql(), teamId, new Date(t(15).getTime() - 1)))?.planVersion.id).toBe(basic.id);
    const now = await pricesForTeam(appSql(), teamId, t(15));
    expect(now?.planVersion).toEqual(premium);
    expect(now?.assignment.effectiveTo).toBeNull();
  });

  it('splits a period at a mid-period change, each segment with its own plan version', async () => {
    const teamId = await newTeam();
    await assign(teamId, basic, 1);
    await assign(teamId, premium, 11);
    const segments = await assignmentsForTeam(appSql(), teamId, t(5), t(20));
    expect(segments.map((s) => [s.planVersion.id, s.from, s.to])).toEqual([
      [basic.id, t(5).toISOString(), t(11).toISOString()],
      [premium.id, t(11).toISOString(), t(20).toISOString()],
    ]);
  });

  it('returns the stored assignment when the same assignment is replayed, even after later ones', async () => {
    const teamId = await newTeam();
    const first = await assign(teamId, basic, 1);
    await assign(teamId, premium, 10);
    const replay = await assign(teamId, basic, 1);
    expect(replay.created).toBe(false);
    expect(replay.assignment.id).toBe(first.assignment.id);
    expect(replay.assignment.effectiveTo).toBe(t(10).toISOString());
  });

  it('changes nothing when the current plan version is assigned again by the same source', async () => {
    const teamId = await newTeam();
    const first = await assign(teamId, basic, 1);
    const again = await assign(teamId, basic, 20);
    expect(again).toEqual({ assignment: first.assignment, created: false });
  });

  it('answers the same instant with another plan version as an idempotency conflict', async () => {
    const teamId = await newTeam();
    await assign(teamId, basic, 1);
    await expect(assign(teamId, premium, 1)).rejects.toMatchObject({ code: 'idempotency_conflict' });
  });

  it('refuses an assignment that would start before the latest one', async () => {
    const teamId = await newTeam();
    await assign(teamId, basic, 10);
    await expect(assign(teamId, premium, 5)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('refuses a plan version in another currency, an unknown version, and an unknown team', async () => {
    const teamId = await newTeam();
    await expect(assign(teamId, euro, 1)).rejects.toMatchObject({ code: 'validation_failed', fields: [{ path: 'planVersionId' }] });
    await expect(assignTeamPlan(appSql(), { teamId, planVersionId: 'ghost-v1', effectiveFrom: t(1), source: 'manual' }, 'test')).rejects.toMatchObject({
      code: 'validation_failed',
    });
    await expect(assign(uniqueId('ghost'), basic, 1)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('joins the caller’s transaction, so it rolls back with it', async () => {
    const teamId = await newTeam();
    await expect(
      inTransaction(appSql(), async (tx) => {
        await assignTeamPlan(tx, { teamId, planVersionId: basic.id, effectiveFrom: t(1), source: 'contract', sourceRef: 'ct_1' }, 'test');
        throw new Error('the subscription write failed');
      }),
    ).rejects.toThrow(/subscription write/);
    expect(await pricesForTeam(appSql(), teamId, t(2))).toBeNull();
  });
});

describe('ending a team’s plan', () => {
  it('leaves the team unpriced after the end, idempotently, and a later assignment starts after the gap', async () => {
    const teamId = await newTeam();
    await assign(teamId, basic, 1);
    const ended = await endTeamPlan(appSql(), { teamId, effectiveTo: t(10) }, 'test');
    expect(ended.effectiveTo).toBe(t(10).toISOString());
    expect(await endTeamPlan(appSql(), { teamId, effectiveTo: t(10) }, 'test')).toEqual(ended);
    await expect(endTeamPlan(appSql(), { teamId, effectiveTo: t(12) }, 'test')).rejects.toMatchObject({ code: 'conflict' });
    expect(await pricesForTeam(appSql(), teamId, t(10))).toBeNull();

    await expect(assign(teamId, premium, 5)).rejects.toMatchObject({ code: 'conflict' });
    await assign(teamId, premium, 20);
    const segments = await assignmentsForTeam(appSql(), teamId, t(1), t(30));
    expect(segments.map((s) => [s.planVersion.id, s.from, s.to])).toEqual([
      [basic.id, t(1).toISOString(), t(10).toISOString()],
      [premium.id, t(20).toISOString(), t(30).toISOString()],
    ]);
  });
});

describe('assignments in Postgres', () => {
  it('cannot be deleted or rewritten by the application role', async () => {
    const teamId = await newTeam();
    const { assignment } = await assign(teamId, basic, 1);
    await expect(appSql()`delete from team_plan_assignments where id = ${assignment.id}`).rejects.toMatchObject({ code: '42501' });
    await expect(appSql()`update team_plan_assignments set plan_version_id = ${premium.id} where id = ${assignment.id}`).rejects.toMatchObject({ code: '42501' });
  });

  it('may only be closed once, even by the owner', async () => {
    const teamId = await newTeam();
    const { assignment } = await assign(teamId, basic, 1);
    await endTeamPlan(appSql(), { teamId, effectiveTo: t(5) }, 'test');
    await expect(adminSql()`update team_plan_assignments set effective_to = ${t(9)} where id = ${assignment.id}`).rejects.toThrow(/closed, once/);
    await expect(adminSql()`delete from team_plan_assignments where id = ${assignment.id}`).rejects.toThrow(/append-only/);
  });

  it('never overlap for one team, whatever writes them', async () => {
    const teamId = await newTeam();
    await assign(teamId, basic, 1);
    await expect(adminSql()`
      insert into team_plan_assignments (team_id, plan_version_id, effective_from, effective_to, source, created_by)
      values (${teamId}, ${premium.id}, ${t(3)}, ${t(4)}, 'manual', 'test')`).rejects.toMatchObject({ code: '23P01' });
  });
});
