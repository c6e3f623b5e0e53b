/**
 * The launcher's way out. Whatever asks it to stop — Ctrl-C, a SIGTERM or SIGHUP sent to this
 * process alone (what process managers do), or the process that started it going away without a
 * word — every child process it started is stopped, newest first, including children that are still
 * starting, and then the other resources it holds (embedded Postgres, which the children use).
 */
import { liveProcesses } from './processes.js';

export interface SupervisorOptions {
  say: (msg: string) => void;
  /** How often the parent is checked; a parent that died leaves this process with a new parent id. */
  parentPollMs?: number;
  /** Per child: SIGTERM, then SIGKILL after this long. */
  stopTimeoutMs?: number;
}

export interface Supervisor {
  /** Runs `stop` after every child process has stopped (last registered first). */
  onStop(stop: () => Promise<void>): void;
  /**
   * Stops everything once (a second request joins the first) and exits with `code`; `lastLine` (why
   * it failed) is said after the children stopped, so it ends the output.
   */
  stopAll(code: number, lastLine?: string): Promise<void>;
  readonly stopping: boolean;
}

const PARENT_POLL_MS = 250;
const STOP_TIMEOUT_MS = 10_000;

export function superviseChildren(opts: SupervisorOptions): Supervisor {
  const stoppers: Array<() => Promise<void>> = [];
  let stopping: Promise<void> | null = null;

  const stopAll = (code: number, lastLine?: string): Promise<void> => {
    stopping ??= (async () => {
      opts.say('stopping…');
      for (const child of liveProcesses().reverse()) {
        await child.stop(opts.stopTimeoutMs ?? STOP_TIMEOUT_MS).catch((err: unknown) => opts.say(`stopping ${child.name} failed: ${(err as Error).message}`));
      }
      for (const stop of stoppers.reverse()) await stop().catch((err: unknown) => opts.say(`stop failed: ${(err as Error).message}`));
      opts.say('stopped');
      if (lastLine) opts.say(lastLine);
      process.exit(code);
    })();
    return stopping;
  };

  // `on`, not `once`: Ctrl-C may arrive twice (from the terminal and passed on by scripts/run.mjs),
  // and a second signal must not kill this process halfway through stopping its children. SIGHUP
  // (the terminal closed) would otherwise end this process at once and orphan the children.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stopAll(0));

  // Signalled alone, `npm start` ends its shell and nothing reaches the node processes below it;
  // scripts/run.mjs notices and passes a SIGTERM on. If run.mjs itself is killed (SIGKILL), only
  // this check is left: the parent id changes when the parent dies.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stopAll(0);
  }, opts.parentPollMs ?? PARENT_POLL_MS).unref();

  // With the terminal or the parent gone, writing progress may fail (EPIPE, EIO): that must not
  // crash this process before it has stopped its children.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});

  return {
    onStop: (stop) => void stoppers.push(stop),
    stopAll,
    get stopping() {
      return stopping !== null;
    },
  };
}
