/**
 * Finds, or builds once, the Go tools the embedded defaults run: the Temporal CLI (dev server and
 * Web UI) and stripe-mock. Built binaries live in a cache outside the clone, keyed by version, so a
 * fresh clone on the same machine reuses them and a version bump builds the new one beside the old.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Tool {
  name: string;
  /** Env var that points at an existing binary. */
  envVar: string;
  binary: string;
  module: string;
  version: string;
  ldflags?: string;
  /** Printed when the tool can be neither found nor built. */
  alternatives: string[];
}

export const TEMPORAL_CLI: Tool = {
  name: 'Temporal CLI',
  envVar: 'TEMPORAL_CLI',
  binary: 'temporal',
  module: 'github.com/temporalio/cli/cmd/temporal',
  // Later tags carry a replace directive that breaks `go install module@version`.
  version: 'v1.5.1',
  ldflags: '-X github.com/temporalio/cli/temporalcli.Version=1.5.1',
  alternatives: [
    'install the Temporal CLI (https://docs.temporal.io/cli) and put `temporal` on PATH, or set TEMPORAL_CLI=/path/to/temporal',
    'set TEMPORAL_ADDRESS=host:7233 to use a Temporal server you already run',
    'or run everything with Docker: `docker compose up`',
  ],
};

export const STRIPE_MOCK: Tool = {
  name: 'stripe-mock',
  envVar: 'STRIPE_MOCK_BIN',
  binary: 'stripe-mock',
  module: 'github.com/stripe/stripe-mock',
  version: 'v0.203.0',
  alternatives: [
    'install stripe-mock (https://github.com/stripe/stripe-mock) and put it on PATH, or set STRIPE_MOCK_BIN',
    'or set STRIPE_SECRET_KEY=sk_test_… to use your Stripe test-mode account instead',
  ],
};

export function toolsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.BILLING_TOOLS_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'billing-ledger', 'tools');
}

function onPath(binary: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export class ToolMissingError extends Error {
  constructor(tool: Tool, reason: string) {
    super(
      `${tool.name} ${tool.version} is needed but ${reason}.\nOptions:\n${tool.alternatives.map((a) => `  - ${a}`).join('\n')}\n` +
        `  - or install Go ≥ 1.25 and run again: it is built once with \`go install ${tool.module}@${tool.version}\``,
    );
    this.name = 'ToolMissingError';
  }
}

/** Returns the path of a usable binary: env var, then PATH, then the version-keyed cache, then a Go build. */
export async function ensureTool(
  tool: Tool,
  opts: { env?: NodeJS.ProcessEnv; log?: (msg: string) => void } = {},
): Promise<string> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  const fromEnv = env[tool.envVar];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new ToolMissingError(tool, `${tool.envVar}=${fromEnv} does not exist`);
    return fromEnv;
  }
  const cached = join(toolsCacheDir(env), `${tool.binary}-${tool.version}`, tool.binary);
  if (existsSync(cached)) return cached;
  const found = onPath(tool.binary);
  if (found) return found;
  if (!onPath('go')) throw new ToolMissingError(tool, 'it is not installed and Go is not available to build it');
  log(`Building ${tool.name} ${tool.version} with Go into ${cached} (first run only; a few minutes)…`);
  await goInstall(tool, cached, env);
  log(`Built ${tool.name} ${tool.version}.`);
  return cached;
}

async function goInstall(tool: Tool, target: string, env: NodeJS.ProcessEnv): Promise<void> {
  const cacheRoot = toolsCacheDir(env);
  mkdirSync(cacheRoot, { recursive: true });
  // Build into a scratch folder and rename: two launchers building at once never see half a binary.
  const scratch = mkdtempSync(join(cacheRoot, `.build-${tool.binary}-`));
  const args = ['install'];
  if (tool.ldflags) args.push('-ldflags', tool.ldflags);
  args.push(`${tool.module}@${tool.version}`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn('go', args, {
      env: { ...env, CGO_ENABLED: '0', GOBIN: scratch },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`go install ${tool.module} exited with ${code}`))));
  });
  mkdirSync(join(target, '..'), { recursive: true });
  renameSync(join(scratch, tool.binary), target);
  rmSync(scratch, { recursive: true, force: true });
}
