/**
 * Vitest global setup. Under `npm test` the services already run (scripts/test.ts passes them in
 * BILLING_TEST_SERVICES); under a bare `npx vitest` this starts them for the run.
 */
import type { TestProject } from 'vitest/node';
import { SERVICES_ENV, startTestServices, type TestServices } from './services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    services: TestServices;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env[SERVICES_ENV];
  if (given) {
    project.provide('services', JSON.parse(given) as TestServices);
    return async () => {};
  }
  const { services, stop } = await startTestServices((m) => process.stdout.write(`[services] ${m}\n`));
  project.provide('services', services);
  return stop;
}
