/**
 * `npm run bench -- <name> [args]`: runs one benchmark from bench/<name>.ts against real services
 * (Postgres, Temporal dev server, stripe-mock: the same ones the tests use, in .data/bench), prints
 * its figures, writes them to bench/results/<name>.json, and ends with the figures as one JSON line.
 * Benchmarks are measurements, not tests: they assert nothing.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/shared/paths.js';
import { superviseChildren } from '../src/dev/supervisor.js';
import { startTestServices, type TestServices } from '../test/helpers/services.js';

export interface BenchContext {
  services: TestServices;
  args: string[];
  log: (msg: string) => void;
  /** Series and tables a benchmark adds to its results file beside the figures (e.g. per minute). */
  detail: Record<string, unknown>;
}

export type BenchFigures = Record<string, number | string | boolean>;

export interface Benchmark {
  /** Returns the figures; the last line printed is them as JSON. */
  run?(ctx: BenchContext): Promise<BenchFigures>;
  /** A benchmark that brings up services of its own (chaos restarts them) gets none from here. */
  runOwn?(ctx: Omit<BenchContext, 'services'>): Promise<BenchFigures>;
}

const BENCHMARKS = ['ledger', 'ingest', 'period-close', 'soak', 'chaos'] as const;

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  if (!name || !(BENCHMARKS as readonly string[]).includes(name)) {
    process.stderr.write(`usage: npm run bench -- <${BENCHMARKS.join('|')}> [args]\n`);
    process.exit(2);
  }
  const log = (m: string) => process.stdout.write(`[bench:${name}] ${m}\n`);
  const mod = (await import(`./${name}.ts`)) as Benchmark;
  const detail: Record<string, unknown> = {};
  let figures: BenchFigures;
  if (mod.runOwn) figures = await mod.runOwn({ args, log, detail });
  else {
    // A bench stopped by a signal (Ctrl-C, kill) stops its api, worker, Temporal and stripe-mock and
    // Postgres too: they run in process groups of their own and were left running before.
    const supervisor = superviseChildren({ say: log });
    const { services, stop } = await startTestServices(log, 'bench');
    supervisor.onStop(stop);
    try {
      figures = await mod.run!({ services, args, log, detail });
    } finally {
      await stop();
    }
  }
  const record = {
    benchmark: name,
    command: `npm run bench -- ${[name, ...args].join(' ')}`,
    measuredAt: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', loadavg1: loadavg()[0] },
    node: process.version,
    figures,
    ...(Object.keys(detail).length > 0 ? { detail } : {}),
  };
  writeFileSync(join(PROJECT_ROOT, 'bench', 'results', `${name}.json`), `${JSON.stringify(record, null, 2)}\n`);
  log(`written to bench/results/${name}.json`);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
