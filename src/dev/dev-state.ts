/**
 * Secrets and ports of the embedded defaults, generated on the first `npm start` and kept in the data
 * folder so a second start resumes the same state (same database password, same demo app secret).
 * Development only: production takes all of these from its environment.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DevState {
  adminToken: string;
  secretsKey: string;
  postgresPassword: string;
  appDbPassword: string;
  webhookSecret: string;
  demoAppSecret?: string;
  /** Where the last `npm start` runs its services: what `npm run cli -- …` uses when the environment names none. */
  endpoints?: DevEndpoints;
}

export interface DevEndpoints {
  apiUrl: string;
  databaseUrl: string;
  adminDatabaseUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  temporalUiUrl: string | null;
  /** stripe-mock; null when the launcher uses a Stripe account (STRIPE_SECRET_KEY, never written here). */
  stripeApiUrl: string | null;
}

/** The dev state of the data folder, if `npm start` ever ran there (never creates one). */
export function readDevState(dir: string): DevState | null {
  const file = join(dir, 'dev-state.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as DevState) : null;
}

export function loadDevState(dir: string): DevState {
  const existing = readDevState(dir);
  if (existing) return existing;
  mkdirSync(dir, { recursive: true });
  const state: DevState = {
    adminToken: `adm_${randomBytes(24).toString('base64url')}`,
    secretsKey: randomBytes(32).toString('base64'),
    postgresPassword: randomBytes(18).toString('base64url'),
    appDbPassword: randomBytes(18).toString('base64url'),
    webhookSecret: `whsec_${randomBytes(24).toString('hex')}`,
  };
  saveDevState(dir, state);
  return state;
}

export function saveDevState(dir: string, state: DevState): void {
  writeFileSync(join(dir, 'dev-state.json'), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}
