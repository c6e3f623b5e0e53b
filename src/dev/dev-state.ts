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
}

export function loadDevState(dir: string): DevState {
  const file = join(dir, 'dev-state.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevState;
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
