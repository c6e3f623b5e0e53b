/**
 * Apps of the ecosystem and their HMAC signing secrets. A secret is shown once, when it is created;
 * it is stored encrypted (SECRETS_KEY) because verifying HS256 needs the secret itself. Rotation keeps
 * the new secret and the previous one, so apps can roll over without downtime, and revokes the rest.
 * A leaked secret is revoked at once, whatever its age. Every change is announced on
 * APP_SECRETS_CHANNEL (Postgres NOTIFY, sent on commit), so every api process drops its cached
 * secrets of that app immediately (AppDirectory.listenForSecretChanges).
 */
import { webcrypto } from 'node:crypto';
import type { Queryable, Sql } from '../shared/db.js';
import { inTransaction } from '../shared/db.js';
import { decryptSecret, encryptSecret, generateAppSecret, requestHash } from '../shared/crypto.js';
import { idempotencyConflict, notFound } from '../shared/errors.js';
import { LIMITS } from '../shared/limits.js';

export interface AppInput {
  appId: string;
  name: string;
}

export interface AppView {
  appId: string;
  name: string;
  createdAt: string;
}

export interface CreatedApp extends AppView {
  /** Present only in the response that created the secret. */
  secret: string | null;
  secretId: string | null;
  replayed: boolean;
}

export async function registerApp(sql: Sql, secretsKey: Buffer, input: AppInput, actor: string): Promise<CreatedApp> {
  const hash = requestHash(input);
  return inTransaction(sql, async (tx) => {
    const inserted = await tx<{ created_at: Date }[]>`
      insert into apps (id, name, request_hash) values (${input.appId}, ${input.name}, ${hash})
      on conflict (id) do nothing
      returning created_at`;
    if (inserted.length === 0) {
      const [existing] = await tx<{ name: string; request_hash: Buffer; created_at: Date }[]>`
        select name, request_hash, created_at from apps where id = ${input.appId}`;
      if (!existing!.request_hash.equals(hash)) throw idempotencyConflict(input.appId);
      return { appId: input.appId, name: existing!.name, createdAt: existing!.created_at.toISOString(), secret: null, secretId: null, replayed: true };
    }
    const secret = generateAppSecret();
    const [row] = await tx<{ id: string }[]>`
      insert into app_secrets (app_id, ciphertext) values (${input.appId}, ${encryptSecret(secretsKey, secret)}) returning id`;
    await audit(tx, actor, 'app.registered', input.appId, { name: input.name });
    return { appId: input.appId, name: input.name, createdAt: inserted[0]!.created_at.toISOString(), secret, secretId: row!.id, replayed: false };
  });
}

export interface RotatedSecret {
  appId: string;
  secretId: string;
  secret: string;
  /** Secrets still valid after the rotation: the new one and the previous one. */
  activeSecretIds: string[];
  revokedSecretIds: string[];
}

export async function rotateAppSecret(sql: Sql, secretsKey: Buffer, appId: string, actor: string): Promise<RotatedSecret> {
  return inTransaction(sql, async (tx) => {
    const [app] = await tx`select id from apps where id = ${appId}`;
    if (!app) throw notFound(`App ${appId}`);
    // Serialise rotations of one app, so two concurrent ones cannot leave three secrets active.
    // An advisory lock, because the application role may not lock rows of apps (no UPDATE grant).
    await tx`select pg_advisory_xact_lock(hashtextextended(${`app-secrets:${appId}`}, 0))`;
    const secret = generateAppSecret();
    const [created] = await tx<{ id: string }[]>`
      insert into app_secrets (app_id, ciphertext) values (${appId}, ${encryptSecret(secretsKey, secret)}) returning id`;
    const active = await tx<{ id: string }[]>`
      select id from app_secrets where app_id = ${appId} and revoked_at is null order by created_at desc, id`;
    const keep = active.slice(0, LIMITS.appSecretsActiveMax).map((r) => r.id);
    const revoke = active.slice(LIMITS.appSecretsActiveMax).map((r) => r.id);
    if (revoke.length > 0) await tx`update app_secrets set revoked_at = now() where id in ${tx(revoke)}`;
    await audit(tx, actor, 'app.secret_rotated', appId, { secretId: created!.id, revoked: revoke });
    await announceSecretChange(tx, appId);
    return { appId, secretId: created!.id, secret, activeSecretIds: keep, revokedSecretIds: revoke };
  });
}

/** Postgres NOTIFY channel carrying the id of an app whose secrets changed. */
export const APP_SECRETS_CHANNEL = 'app_secrets_changed';

async function announceSecretChange(tx: Queryable, appId: string): Promise<void> {
  await tx`select pg_notify(${APP_SECRETS_CHANNEL}, ${appId})`;
}

export interface AppSecretView {
  secretId: string;
  createdAt: string;
  revokedAt: string | null;
}

/** The app's secrets, newest first, without their values. */
export async function listAppSecrets(sql: Queryable, appId: string): Promise<AppSecretView[]> {
  await getApp(sql, appId);
  const rows = await sql<{ id: string; created_at: Date; revoked_at: Date | null }[]>`
    select id, created_at, revoked_at from app_secrets where app_id = ${appId} order by created_at desc, id`;
  return rows.map((r) => ({ secretId: r.id, createdAt: r.created_at.toISOString(), revokedAt: r.revoked_at?.toISOString() ?? null }));
}

export interface RevokedSecret {
  appId: string;
  secretId: string;
  revokedAt: string;
  /** Secrets still valid; empty when the last one was revoked (the app's tokens fail until a rotation). */
  activeSecretIds: string[];
  /** The secret had been revoked before: nothing changed. */
  replayed: boolean;
}

/**
 * Revokes one secret now (a leak cannot wait for the next rotation to age it out). Idempotent:
 * revoking a revoked secret answers with its first revocation. Revoking the last active secret is
 * allowed: a leaked secret must stop working even before its replacement is deployed.
 */
export async function revokeAppSecret(sql: Sql, appId: string, secretId: string, actor: string): Promise<RevokedSecret> {
  return inTransaction(sql, async (tx) => {
    await getApp(tx, appId);
    await tx`select pg_advisory_xact_lock(hashtextextended(${`app-secrets:${appId}`}, 0))`;
    const [secret] = await tx<{ revoked_at: Date | null }[]>`select revoked_at from app_secrets where id = ${secretId} and app_id = ${appId}`;
    if (!secret) throw notFound(`Secret ${secretId} of app ${appId}`);
    let revokedAt = secret.revoked_at;
    if (!revokedAt) {
      const [updated] = await tx<{ revoked_at: Date }[]>`update app_secrets set revoked_at = now() where id = ${secretId} returning revoked_at`;
      revokedAt = updated!.revoked_at;
      await audit(tx, actor, 'app.secret_revoked', appId, { secretId });
      await announceSecretChange(tx, appId);
    }
    const active = await tx<{ id: string }[]>`select id from app_secrets where app_id = ${appId} and revoked_at is null order by created_at desc, id`;
    return { appId, secretId, revokedAt: revokedAt.toISOString(), activeSecretIds: active.map((r) => r.id), replayed: secret.revoked_at !== null };
  });
}

export interface ActiveSecret {
  id: string;
  /** Imported once per load (HMAC SHA-256, verify only): importing per request costs more than verifying. */
  key: webcrypto.CryptoKey;
}

/** The app's active secrets, newest first; empty when the app does not exist. */
export async function loadActiveSecrets(sql: Queryable, secretsKey: Buffer, appId: string): Promise<ActiveSecret[]> {
  const rows = await sql<{ id: string; ciphertext: Buffer }[]>`
    select id, ciphertext from app_secrets
    where app_id = ${appId} and revoked_at is null
    order by created_at desc, id
    limit ${LIMITS.appSecretsActiveMax}`;
  return Promise.all(
    rows.map(async (r) => ({
      id: r.id,
      key: await webcrypto.subtle.importKey('raw', new TextEncoder().encode(decryptSecret(secretsKey, r.ciphertext)), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']),
    })),
  );
}

export async function getApp(sql: Queryable, appId: string): Promise<AppView> {
  const [row] = await sql<{ name: string; created_at: Date }[]>`select name, created_at from apps where id = ${appId}`;
  if (!row) throw notFound(`App ${appId}`);
  return { appId, name: row.name, createdAt: row.created_at.toISOString() };
}

export async function audit(sql: Queryable, actor: string, action: string, subject: string, details: Record<string, unknown>): Promise<void> {
  await sql`insert into audit_log (actor, action, subject, details) values (${actor}, ${action}, ${subject}, ${sql.json(details as never)})`;
}
