/** Builds app tokens for tests, including every kind of wrong one the auth matrix needs. */
import { SignJWT, base64url } from 'jose';

export interface TokenOptions {
  appId: string;
  secret: string;
  teamId?: string | null;
  scopes?: string[];
  /** Seconds; default 120. */
  lifetimeS?: number;
  /** Seconds relative to now for iat; default 0. */
  iatOffsetS?: number;
  kid?: string;
}

export async function appToken(o: TokenOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000) + (o.iatOffsetS ?? 0);
  const claims: Record<string, unknown> = { appId: o.appId, scopes: o.scopes ?? [] };
  if (o.teamId) claims.teamId = o.teamId;
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...(o.kid ? { kid: o.kid } : {}) })
    .setIssuedAt(now)
    .setExpirationTime(now + (o.lifetimeS ?? 120));
  return jwt.sign(new TextEncoder().encode(o.secret));
}

/** A token with an arbitrary header (e.g. alg none or HS512) and a correct-looking body. */
export function tokenWithHeader(header: Record<string, unknown>, claims: Record<string, unknown>, signature = ''): string {
  const enc = (v: unknown) => base64url.encode(JSON.stringify(v));
  return `${enc(header)}.${enc(claims)}.${signature}`;
}
