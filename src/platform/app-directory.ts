/**
 * In-process cache of what every app request needs: the app's active secrets and whether it may act
 * for a team. Without it each request would cost two extra Postgres round trips. Entries expire after
 * a short TTL. A rotation or revocation takes effect at once: in this process by `invalidateApp`, in
 * every other one through `listenForSecretChanges` (Postgres NOTIFY); the TTL bounds the rest.
 */
import type { Queryable, Sql } from '../shared/db.js';
import { APP_SECRETS_CHANNEL, loadActiveSecrets, type ActiveSecret } from './apps.js';
import { isTeamConnected } from './teams.js';

interface Entry<T> {
  value: T;
  expiresAt: number;
}

export interface AppDirectoryOptions {
  secretsTtlMs: number;
  connectedTtlMs: number;
  /** Unknown apps and unconnected teams are cached briefly so garbage tokens cannot hammer Postgres. */
  negativeTtlMs: number;
  entriesMax: number;
}

export const APP_DIRECTORY_DEFAULTS: AppDirectoryOptions = {
  secretsTtlMs: 10_000,
  connectedTtlMs: 30_000,
  negativeTtlMs: 2_000,
  entriesMax: 100_000,
};

export class AppDirectory {
  private readonly secrets = new Map<string, Entry<ActiveSecret[]>>();
  private readonly connected = new Map<string, Entry<boolean>>();
  /** Bumped by every invalidation of secrets. */
  private secretsGeneration = 0;

  constructor(
    private readonly sql: Queryable,
    private readonly secretsKey: Buffer,
    private readonly opts: AppDirectoryOptions = APP_DIRECTORY_DEFAULTS,
  ) {}

  async activeSecrets(appId: string): Promise<ActiveSecret[]> {
    const hit = this.secrets.get(appId);
    if (hit && hit.expiresAt > Date.now()) return hit.value;
    const generation = this.secretsGeneration;
    const value = await loadActiveSecrets(this.sql, this.secretsKey, appId);
    // A load that raced with an invalidation may have read the secrets before the change: use it for
    // this request, but do not keep it.
    if (generation === this.secretsGeneration) this.put(this.secrets, appId, value, value.length > 0 ? this.opts.secretsTtlMs : this.opts.negativeTtlMs);
    return value;
  }

  async isConnected(appId: string, teamId: string): Promise<boolean> {
    const key = `${appId}\u0000${teamId}`;
    const hit = this.connected.get(key);
    if (hit && hit.expiresAt > Date.now()) return hit.value;
    const value = await isTeamConnected(this.sql, appId, teamId);
    this.put(this.connected, key, value, value ? this.opts.connectedTtlMs : this.opts.negativeTtlMs);
    return value;
  }

  /** Returns the subset of `teamIds` the app may act for, with one query for the uncached ones. */
  async connectedTeams(appId: string, teamIds: Iterable<string>): Promise<Set<string>> {
    const result = new Set<string>();
    const unknown: string[] = [];
    const now = Date.now();
    for (const teamId of new Set(teamIds)) {
      const hit = this.connected.get(`${appId}\u0000${teamId}`);
      if (hit && hit.expiresAt > now) {
        if (hit.value) result.add(teamId);
      } else unknown.push(teamId);
    }
    if (unknown.length > 0) {
      const rows = await this.sql<{ team_id: string }[]>`
        select team_id from team_apps where app_id = ${appId} and team_id = any(${unknown}::text[])`;
      const found = new Set(rows.map((r) => r.team_id));
      for (const teamId of unknown) {
        const ok = found.has(teamId);
        this.put(this.connected, `${appId}\u0000${teamId}`, ok, ok ? this.opts.connectedTtlMs : this.opts.negativeTtlMs);
        if (ok) result.add(teamId);
      }
    }
    return result;
  }

  invalidateApp(appId: string): void {
    this.secretsGeneration++;
    this.secrets.delete(appId);
  }

  /**
   * Drops an app's cached secrets as soon as any process rotates or revokes them. On every
   * (re)connection of the listener the whole secret cache is dropped, since announcements made
   * while it was disconnected are lost. Returns the function that stops listening.
   */
  async listenForSecretChanges(sql: Sql): Promise<() => Promise<void>> {
    const { unlisten } = await sql.listen(APP_SECRETS_CHANNEL, (appId) => this.invalidateApp(appId), () => {
      this.secretsGeneration++;
      this.secrets.clear();
    });
    return unlisten;
  }

  invalidateTeam(teamId: string): void {
    for (const key of this.connected.keys()) if (key.endsWith(`\u0000${teamId}`)) this.connected.delete(key);
  }

  private put<T>(map: Map<string, Entry<T>>, key: string, value: T, ttlMs: number): void {
    // Bounded: when full, drop the oldest insertion (Map keeps insertion order).
    if (map.size >= this.opts.entriesMax) map.delete(map.keys().next().value as string);
    map.set(key, { value, expiresAt: Date.now() + ttlMs });
  }
}
