/**
 * stripe-mock, Stripe's official mock server, as the payment rail of the embedded defaults and the
 * tests. It validates every request against Stripe's OpenAPI spec; it keeps no state. Bound to
 * loopback on both of its listeners.
 */
import { startProcess, waitForPort, type ManagedProcess } from './processes.js';

export interface StripeMock {
  url: string;
  process: ManagedProcess;
}

export async function startStripeMock(opts: { bin: string; port: number; logFile: string }): Promise<StripeMock> {
  const proc = startProcess(
    'stripe-mock',
    opts.bin,
    ['-http-addr', `127.0.0.1:${opts.port}`, '-https-addr', '127.0.0.1:0'],
    { logFile: opts.logFile },
  );
  await Promise.race([
    waitForPort('127.0.0.1', opts.port, 20_000),
    proc.exited.then((code) => {
      throw new Error(`stripe-mock exited with ${code}; see ${opts.logFile}`);
    }),
  ]);
  return { url: `http://127.0.0.1:${opts.port}`, process: proc };
}
