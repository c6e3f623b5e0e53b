/**
 * App authentication: each request carries a short-lived HS256 JWT signed with the app's shared
 * secret, with claims `appId`, optional `teamId`, `scopes`, `iat` and `exp`. Every way a token can be
 * wrong has its own stable code, so an integrator can tell a clock problem from a secret problem.
 */
import { createMiddleware } from 'hono/factory';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { AppError } from '../../shared/errors.js';
import { LIMITS } from '../../shared/limits.js';
import type { Scope } from '../../shared/scopes.js';
import type { AppDirectory } from '../../platform/app-directory.js';
import type { ApiEnv, AppPrincipal } from '../deps.js';

function bearer(header: string | undefined): string {
  if (!header) throw new AppError('token_missing', 'Send `Authorization: Bearer <jwt>` signed with your app secret');
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  if (!m) throw new AppError('token_missing', 'The Authorization header must be `Bearer <jwt>`');
  return m[1]!;
}

/** Verifies a token against the app's active secrets and checks every claim rule. */
export async function verifyAppToken(token: string, directory: AppDirectory, nowSeconds = Date.now() / 1000): Promise<AppPrincipal> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverified: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    unverified = decodeJwt(token);
  } catch {
    throw new AppError('token_malformed');
  }
  // Checked before any key is touched: `none`, RS256-with-HMAC-key confusion and friends stop here.
  if (header.alg !== 'HS256') throw new AppError('token_algorithm_not_allowed', `alg ${String(header.alg)} is not accepted; use HS256`);
  const appId = unverified.appId;
  if (typeof appId !== 'string' || appId.length === 0) throw new AppError('token_claims_invalid', 'The appId claim is required');

  const secrets = await directory.activeSecrets(appId);
  if (secrets.length === 0) throw new AppError('app_unknown', `App ${appId} is not registered`);
  // With a `kid` we try that secret first; otherwise both active secrets (at most two HMACs).
  const ordered = [...secrets.filter((s) => s.id === header.kid), ...secrets.filter((s) => s.id !== header.kid)];

  let payload: JWTPayload | undefined;
  for (const secret of ordered) {
    try {
      ({ payload } = await jwtVerify(token, secret.key, {
        algorithms: ['HS256'],
        clockTolerance: LIMITS.tokenClockSkewSeconds,
        currentDate: new Date(nowSeconds * 1000),
      }));
      break;
    } catch (err) {
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) continue;
      if (err instanceof joseErrors.JWTExpired) throw new AppError('token_expired');
      if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'nbf') throw new AppError('token_not_yet_valid');
      if (err instanceof joseErrors.JWTClaimValidationFailed) throw new AppError('token_claims_invalid', err.message);
      throw new AppError('token_malformed');
    }
  }
  if (!payload) throw new AppError('token_signature_invalid');

  const { iat, exp } = payload;
  if (typeof iat !== 'number' || typeof exp !== 'number') throw new AppError('token_claims_invalid', 'iat and exp are required');
  if (exp - iat > LIMITS.tokenLifetimeSecondsMax) {
    throw new AppError('token_lifetime_too_long', `exp - iat is ${exp - iat}s; the most allowed is ${LIMITS.tokenLifetimeSecondsMax}s`);
  }
  if (iat > nowSeconds + LIMITS.tokenClockSkewSeconds) throw new AppError('token_not_yet_valid', 'iat is in the future');
  const teamId = payload.teamId ?? null;
  if (teamId !== null && (typeof teamId !== 'string' || teamId.length === 0)) throw new AppError('token_claims_invalid', 'teamId must be a string');
  const scopes = payload.scopes;
  if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string')) {
    throw new AppError('token_claims_invalid', 'scopes must be an array of strings');
  }
  return { appId, teamId, scopes: new Set(scopes) };
}

/**
 * Requires an app token with `scope`. With `team: 'path'` the route's `:teamId` must be the token's
 * team and connected to the app; with `team: 'any'` team checks are left to the handler (ingest).
 */
export function requireApp(scope: Scope, opts: { team: 'path' | 'any' }) {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const { directory } = c.get('deps');
    const principal = await verifyAppToken(bearer(c.req.header('authorization')), directory);
    if (!principal.scopes.has(scope)) throw new AppError('scope_missing', `This route needs the ${scope} scope`);
    if (opts.team === 'path') {
      const teamId = c.req.param('teamId');
      if (!teamId || principal.teamId !== teamId) {
        throw new AppError('team_mismatch', 'The token must be issued for the team in the path');
      }
      if (!(await directory.isConnected(principal.appId, teamId))) {
        throw new AppError('team_not_connected', `Team ${teamId} is not connected to app ${principal.appId}`);
      }
    }
    c.set('principal', principal);
    await next();
  });
}
