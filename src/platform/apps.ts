/**
 * Apps of the ecosystem and their HMAC signing secrets. A secret is shown once, when it is created;
 * it is stored encrypted (SECRETS_KEY) because verifying HS256 needs the secret itself. Rotation keeps
 * the new secret and the previous one, so apps can roll over without downtime, and revokes the rest.
 * A leaked secret is revoked at once, whatever its age. Every change is announced on
 * APP_SECRETS_CHANNEL (Postgres NOTIFY, sent on commit), so every api process drops its cached
 * secrets of that app immediately (AppDirectory.listenForSecretChanges).
 */
import { webcrypto } from 'node:crypto';
import { z } from 'zod';
import type { Queryable, Sql } from '../shared/db.js';
import { inTransaction } from '../shared/db.js';
import { decryptSecret, encryptSecret, generateAppSecret, requestHash } from '../shared/crypto.js';
import { idempotencyConflict, notFound } from '../shared/errors.js';
import { LIMITS } from '../shared/limits.js';

/** An http(s) URL Stripe Checkout can send the customer back to (Stripe's `{CHECKOUT_SESSION_ID}` placeholder may appear in it). */
export const checkoutUrlSchema = z.url({ protocol: /^https?$/ }).max(LIMITS.urlLengthMax);

/** Where Stripe Checkout sends the customer back when a checkout request names no URLs. */
export interface CheckoutDefaults {
  checkoutSuccessUrl: string | null;
  checkoutCancelUrl: string | null;
}

export interface AppInput {
  appId: string;
  name: string;
  checkoutSuccessUrl?: string;
  checkoutCancelUrl?: string;
}

export interface AppView extends CheckoutDefaults {
  appId: string;
  name: string;
  createdAt: string;
}

interface AppRow {
  name: string;
  created_at: Date;
  checkout_success_url: string | null;
  checkout_cancel_url: string | null;
}

const toView = (appId: string, r: AppRow): AppView => ({
  appId,
  name: r.name,
  createdAt: r.created_at.toISOString(),
  checkoutSuccessUrl: r.checkout_success_url,
  checkoutCancelUrl: r.checkout_cancel_url,
});

export interface CreatedApp extends AppView {
  /** Present only in the response that created the secret. */
  secret: string | null;
  secretId: string | null;
  replayed: boolean;
}

/** Registers an app once by id (a replay with the same input returns it without its secret). */
export async function registerApp(sql: Sql, secretsKey: Buffer, input: AppInput, actor: string): Promise<CreatedApp> {
  // Absent URLs leave the hash as it was before apps had them, so earlier registrations still replay.
  const hash = requestHash(input);
  return inTransaction(sql, async (tx) => {
    const inserted = await tx<AppRow[]>`
      insert into apps (id, name, request_hash, checkout_success_url, checkout_cancel_url)
      values (${input.appId}, ${input.name}, ${hash}, ${input.checkoutSuccessUrl ?? null}, ${input.checkoutCancelUrl ?? null})
      on conflict (id) do nothing
      returning name, created_at, checkout_success_url, checkout_cancel_url`;
    if (inserted.length === 0) {
      const [existing] = await tx<(AppRow & { request_hash: Buffer })[]>`select * from apps where id = ${input.appId}`;
      if (!existing!.request_hash.equals(hash)) throw idempotencyConflict(input.appId);
      return { ...toView(input.appId, existing!), secret: null, secretId: null, replayed: true };
    }
    const secret = generateAppSecret();
    const [row] = await tx<{ id: string }[]>`
      insert into app_secrets (app_id, ciphertext) values (${input.appId}, ${encryptSecret(secretsKey, secret)}) returning id`;
    await audit(tx, actor, 'app.registered', input.appId, { name: input.name, checkoutSuccessUrl: input.checkoutSuccessUrl, checkoutCancelUrl: input.checkoutCancelUrl });
    return { ...toView(input.appId, inserted[0]!), secret, secretId: row!.id, replayed: false };
  });
}

/**
 * Sets (a URL) or clears (null) the app's Checkout defaults; a field left undefined keeps its value.
 * Idempotent: setting what is already there changes nothing and audits nothing.
 */
export async function setCheckoutDefaults(sql: Sql, appId: string, change: Partial<CheckoutDefaults>, actor: string): Promise<AppView> {
  return inTransaction(sql, async (tx) => {
    const [before] = await tx<AppRow[]>`select * from apps where id = ${appId}`;
    if (!before) throw notFound(`App ${appId}`);
    const success = change.checkoutSuccessUrl === undefined ? before.checkout_success_url : change.checkoutSuccessUrl;
    const cancel = change.checkoutCancelUrl === undefined ? before.checkout_cancel_url : change.checkoutCancelUrl;
    if (success === before.checkout_success_url && cancel === before.checkout_cancel_url) return toView(appId, before);
    const [after] = await tx<AppRow[]>`
      update apps set checkout_success_url = ${success}, checkout_cancel_url = ${cancel} where id = ${appId}
      returning name, created_at, checkout_success_url, checkout_cancel_url`;
    await audit(tx, actor, 'app.checkout_defaults_set', appId, { checkoutSuccessUrl: success, checkoutCancelUrl: cancel });
    return toView(appId, after!);
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
  const [row] = await sql<AppRow[]>`select name, created_at, checkout_success_url, checkout_cancel_url from apps where id = ${appId}`;
  if (!row) throw notFound(`App ${appId}`);
  return toView(appId, row);
}

export async function audit(sql: Queryable, actor: string, action: string, subject: string, details: Record<string, unknown>): Promise<void> {
  await sql`insert into audit_log (actor, action, subject, details) values (${actor}, ${action}, ${subject}, ${sql.json(details as never)})`;
}
