/** Hashing, canonical JSON and at-rest encryption of app secrets. */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * JSON with object keys sorted at every level, so two payloads that mean the same thing hash the
 * same whatever order a client serialised them in. This is what idempotency conflicts compare.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return JSON.stringify(value.toString());
    return JSON.stringify(value) ?? 'null';
  }
  // Plain loops rather than entries/filter/map/join: this runs for every ingested event.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  // sort() without a comparator orders by UTF-16 code units, as `a < b` does.
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const k of keys) {
    const v = record[k];
    if (v === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

export function sha256(data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** The request hash stored beside every idempotency key. */
export function requestHash(payload: unknown): Buffer {
  return sha256(canonicalJson(payload));
}

/** A new app HMAC secret: 32 random bytes, base64url, with a recognisable prefix for secret scanners. */
export function generateAppSecret(): string {
  return `bsk_${randomBytes(32).toString('base64url')}`;
}

/** AES-256-GCM; output is iv (12) ‖ tag (16) ‖ ciphertext. */
export function encryptSecret(key: Buffer, plaintext: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

export function decryptSecret(key: Buffer, sealed: Buffer): string {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAuthTag(sealed.subarray(12, 28));
  return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
}
