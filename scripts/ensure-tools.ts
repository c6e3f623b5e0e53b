/** Finds or builds (once, with Go, into the tools cache) the Temporal CLI and stripe-mock. */
import { ensureTool, STRIPE_MOCK, TEMPORAL_CLI } from '../src/dev/tools.js';

const say = (m: string) => process.stdout.write(`[tools] ${m}\n`);
for (const tool of [TEMPORAL_CLI, STRIPE_MOCK]) {
  const started = Date.now();
  const path = await ensureTool(tool, { log: say });
  say(`${tool.name} ${tool.version}: ${path} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
}
