/** Short-lived HS256 app tokens, one per request. */
import { SignJWT } from 'jose';

/** The service refuses lifetimes above 300 s; 120 s leaves room for clock skew and retries. */
export const TOKEN_LIFETIME_DEFAULT_S = 120;
export const TOKEN_LIFETIME_MAX_S = 300;

export interface TokenClaims {
  appId: string;
  teamId?: string | undefined;
  scopes: string[];
}

export async function signAppToken(secret: Uint8Array, claims: TokenClaims, lifetimeS: number, kid?: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = { appId: claims.appId, scopes: claims.scopes };
  if (claims.teamId) payload.teamId = claims.teamId;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...(kid ? { kid } : {}) })
    .setIssuedAt(now)
    .setExpirationTime(now + lifetimeS)
    .sign(secret);
}
