/**
 * Plans and their immutable versions: publish (idempotent by content) and read. A version, once
 * published, never changes (Postgres enforces it), so subscriptions pinned to it keep their prices.
 */
import { withinTransaction, type Queryable } from '../shared/db.js';
import { requestHash } from '../shared/crypto.js';
import { AppError, notFound } from '../shared/errors.js';
import { LIMITS } from '../shared/limits.js';
import { audit } from '../platform/apps.js';
import type { PlanVersionContent, PublishPlanInput } from './schema.js';

export interface PlanVersion extends PlanVersionContent {
  /** `<planCode>-v<version>`. */
  id: string;
  planCode: string;
  version: number;
  publishedAt: string;
}

export interface PlanSummary {
  code: string;
  name: string;
  createdAt: string;
  latest: PlanVersion;
}

export interface PublishResult {
  version: PlanVersion;
  /** False when the content equals the latest version's: that version is returned, nothing written. */
  created: boolean;
}

interface VersionRow {
  id: string;
  plan_code: string;
  version: number;
  content: PlanVersionContent;
  content_hash: Buffer;
  published_at: Date;
}

const VERSION_COLUMNS = ['id', 'plan_code', 'version', 'content', 'content_hash', 'published_at'];

/** A plan_versions row (or the same columns from a join) as a PlanVersion. */
export function planVersionFromRow(row: Pick<VersionRow, 'id' | 'plan_code' | 'version' | 'content' | 'published_at'>): PlanVersion {
  return { ...row.content, id: row.id, planCode: row.plan_code, version: row.version, publishedAt: row.published_at.toISOString() };
}

export function planVersionId(planCode: string, version: number): string {
  return `${planCode}-v${version}`;
}

/**
 * Publishes `input` as the next version of its plan (creating the plan on first publish), unless
 * the content equals the latest version's, which is then returned as is. A new display name renames
 * the plan without a new version. With expectedLatestVersion, a plan that moved on is a conflict.
 */
export async function publishPlanVersion(db: Queryable, input: PublishPlanInput, actor: string): Promise<PublishResult> {
  const { code, name, expectedLatestVersion, ...content } = input;
  const hash = requestHash(content);
  return withinTransaction(db, async (tx) => {
    await tx`insert into plans (code, name) values (${code}, ${name}) on conflict (code) do nothing`;
    // Serialises publishes of one plan: version numbers are decided under this lock.
    const [plan] = await tx<{ name: string }[]>`select name from plans where code = ${code} for update`;
    if (plan!.name !== name) {
      await tx`update plans set name = ${name} where code = ${code}`;
      await audit(tx, actor, 'plan.renamed', code, { from: plan!.name, to: name });
    }
    const [latest] = await tx<VersionRow[]>`
      select ${tx(VERSION_COLUMNS)} from plan_versions where plan_code = ${code} order by version desc limit 1`;
    if (latest?.content_hash.equals(hash)) return { version: planVersionFromRow(latest), created: false };
    const latestVersion = latest?.version ?? 0;
    if (expectedLatestVersion !== undefined && expectedLatestVersion !== latestVersion) {
      throw new AppError('conflict', `Plan ${code} is at version ${latestVersion}, not ${expectedLatestVersion}; read it and publish again`, {
        details: { latestVersion },
      });
    }
    const version = latestVersion + 1;
    const id = planVersionId(code, version);
    const [row] = await tx<VersionRow[]>`
      insert into plan_versions (id, plan_code, version, currency, interval, content, content_hash, published_by)
      values (${id}, ${code}, ${version}, ${content.currency}, ${content.interval}, ${tx.json(content as never)}, ${hash}, ${actor})
      returning ${tx(VERSION_COLUMNS)}`;
    await audit(tx, actor, 'plan.version_published', id, { plan: code, version });
    return { version: planVersionFromRow(row!), created: true };
  });
}

export async function findPlanVersion(db: Queryable, id: string): Promise<PlanVersion | null> {
  const [row] = await db<VersionRow[]>`select ${db(VERSION_COLUMNS)} from plan_versions where id = ${id}`;
  return row ? planVersionFromRow(row) : null;
}

export async function getPlanVersion(db: Queryable, id: string): Promise<PlanVersion> {
  const version = await findPlanVersion(db, id);
  if (!version) throw notFound(`Plan version ${id}`);
  return version;
}

export async function getPlanVersionByNumber(db: Queryable, planCode: string, version: number): Promise<PlanVersion> {
  return getPlanVersion(db, planVersionId(planCode, version));
}

/** The newest version of a plan: what new subscriptions get. */
export async function getLatestPlanVersion(db: Queryable, planCode: string): Promise<PlanVersion> {
  const [row] = await db<VersionRow[]>`
    select ${db(VERSION_COLUMNS)} from plan_versions where plan_code = ${planCode} order by version desc limit 1`;
  if (!row) throw notFound(`Plan ${planCode}`);
  return planVersionFromRow(row);
}

export interface Page<T> {
  items: T[];
  /** Pass as `after` for the next page; null on the last page. */
  next: string | null;
}

/** Plans in code order, each with its latest version. */
export async function listPlans(db: Queryable, opts: { limit?: number; after?: string } = {}): Promise<Page<PlanSummary>> {
  const limit = Math.min(opts.limit ?? LIMITS.pageSizeDefault, LIMITS.pageSizeMax);
  const rows = await db<(VersionRow & { name: string; created_at: Date })[]>`
    select p.name, p.created_at, v.id, v.plan_code, v.version, v.content, v.content_hash, v.published_at
    from plans p
    cross join lateral (select * from plan_versions pv where pv.plan_code = p.code order by pv.version desc limit 1) v
    where p.code > ${opts.after ?? ''}
    order by p.code
    limit ${limit + 1}`;
  const items = rows.slice(0, limit).map((r) => ({ code: r.plan_code, name: r.name, createdAt: r.created_at.toISOString(), latest: planVersionFromRow(r) }));
  return { items, next: rows.length > limit ? items.at(-1)!.code : null };
}

/** One plan with its name and its versions, newest first (the newest LIMITS.pageSizeMax). */
export async function getPlanHistory(db: Queryable, planCode: string): Promise<{ code: string; name: string; createdAt: string; versions: PlanVersion[] }> {
  const [plan] = await db<{ name: string; created_at: Date }[]>`select name, created_at from plans where code = ${planCode}`;
  if (!plan) throw notFound(`Plan ${planCode}`);
  const rows = await db<VersionRow[]>`
    select ${db(VERSION_COLUMNS)} from plan_versions where plan_code = ${planCode} order by version desc limit ${LIMITS.pageSizeMax}`;
  return { code: planCode, name: plan.name, createdAt: plan.created_at.toISOString(), versions: rows.map(planVersionFromRow) };
}
