import { describe, expect, it } from 'vitest';
import { apiConfigSchema, ConfigError, loadConfig, workerConfigSchema } from '../../src/shared/config.js';

const valid = {
  DATABASE_URL: 'postgres://billing_app:pw@127.0.0.1:5432/billing',
  STRIPE_SECRET_KEY: 'sk_test_abc123',
  SECRETS_KEY: Buffer.alloc(32, 1).toString('base64'),
  ADMIN_TOKEN: 'a'.repeat(32),
  STRIPE_WEBHOOK_SECRET: 'whsec_abc',
};

describe('configuration', () => {
  it('fills defaults for everything optional', () => {
    const c = loadConfig(apiConfigSchema, valid);
    expect(c).toMatchObject({ API_PORT: 3000, TEMPORAL_ADDRESS: '127.0.0.1:7233', TEMPORAL_TASK_QUEUE: 'billing', LOG_LEVEL: 'info' });
  });

  it('fails fast naming every bad variable at once', () => {
    try {
      loadConfig(apiConfigSchema, { DATABASE_URL: 'mysql://x', STRIPE_SECRET_KEY: 'pk_live_x', SECRETS_KEY: 'short', API_PORT: 'http' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const named = (err as ConfigError).problems.map((p) => p.split(':')[0]);
      expect(named.sort()).toEqual(['ADMIN_TOKEN', 'API_PORT', 'DATABASE_URL', 'SECRETS_KEY', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET']);
    }
  });

  it('asks each process only for what it uses', () => {
    const { ADMIN_TOKEN: _a, STRIPE_WEBHOOK_SECRET: _w, ...workerEnv } = valid;
    expect(() => loadConfig(workerConfigSchema, workerEnv)).not.toThrow();
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig(apiConfigSchema, { ...valid, API_PORT: '' }).API_PORT).toBe(3000);
  });
});
