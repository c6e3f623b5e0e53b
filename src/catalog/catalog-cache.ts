/**
 * In-process cache of plan versions for hot paths (entitlement checks, rating at ingest). Versions
 * are immutable, so one cached by id is never stale and is only dropped to bound memory; the
 * latest version of a plan can change, so that answer expires after `latestTtlMs` (at once for
 * publishes through this process: invalidatePlan).
 */
import type { Queryable } from '../shared/db.js';
import { getLatestPlanVersion, getPlanVersion, type PlanVersion } from './plan-versions.js';

export interface CatalogCacheOptions {
  versionsMax: number;
  latestTtlMs: number;
}

export const CATALOG_CACHE_DEFAULTS: CatalogCacheOptions = { versionsMax: 10_000, latestTtlMs: 10_000 };

export class CatalogCache {
  private readonly versions = new Map<string, PlanVersion>();
  private readonly latestByPlan = new Map<string, { id: string; expiresAt: number }>();

  constructor(
    private readonly db: Queryable,
    private readonly opts: CatalogCacheOptions = CATALOG_CACHE_DEFAULTS,
  ) {}

  /** A version by id; throws not_found for an unknown id (not cached, so a later publish is seen). */
  async version(id: string): Promise<PlanVersion> {
    const hit = this.versions.get(id);
    if (hit) return hit;
    const version = await getPlanVersion(this.db, id);
    this.remember(version);
    return version;
  }

  /** The newest version of a plan, at most `latestTtlMs` old. */
  async latest(planCode: string): Promise<PlanVersion> {
    const hit = this.latestByPlan.get(planCode);
    if (hit && hit.expiresAt > Date.now()) return this.version(hit.id);
    const version = await getLatestPlanVersion(this.db, planCode);
    this.remember(version);
    this.latestByPlan.set(planCode, { id: version.id, expiresAt: Date.now() + this.opts.latestTtlMs });
    return version;
  }

  invalidatePlan(planCode: string): void {
    this.latestByPlan.delete(planCode);
  }

  private remember(version: PlanVersion): void {
    // Bounded: when full, drop the oldest insertion (Map keeps insertion order).
    if (this.versions.size >= this.opts.versionsMax) this.versions.delete(this.versions.keys().next().value as string);
    this.versions.set(version.id, version);
  }
}
