/**
 * `npm run cli -- test-clocks create [--frozen-time ISO] [--name NAME] [--key KEY]`,
 * `… test-clocks show <testClockId>`, `… test-clocks advance <testClockId> <to ISO>`: test clocks
 * through the running api (an advance returns when the clock's teams have settled). A team is
 * created on a clock with `testClockId` on POST /admin/teams. Exit codes: 64 usage, 65 refused.
 */
import { randomBytes } from 'node:crypto';
import { adminApi, ApiCallError, parseFlags, type AdminApi } from './admin-api.js';

const USAGE = `usage: npm run cli -- test-clocks create [--frozen-time ISO-8601] [--name NAME] [--key IDEMPOTENCY-KEY]
       npm run cli -- test-clocks show <testClockId>
       npm run cli -- test-clocks advance <testClockId> <to ISO-8601>
`;

export interface TestClock {
  testClockId: string;
  name: string | null;
  frozenTime: string;
  status: string;
  teamIds: string[];
}

export interface TestClockAdvance {
  testClock: TestClock;
  steps: string[];
  workflows: number;
  settled: boolean;
  busy: string[];
  elapsedMs: number;
}

export async function advanceClock(api: AdminApi, testClockId: string, to: string): Promise<TestClockAdvance> {
  return (await api.call<TestClockAdvance>('POST', `/admin/test-clocks/${encodeURIComponent(testClockId)}/advance`, { body: { to } })).body;
}

const show = (c: TestClock) => `${c.testClockId}${c.name ? ` (${c.name})` : ''}: ${c.frozenTime} ${c.status}; teams: ${c.teamIds.join(', ') || 'none'}\n`;

export async function testClocksCommand(args: string[], io: { api?: AdminApi; out?: (t: string) => void; err?: (t: string) => void } = {}): Promise<number> {
  const out = io.out ?? ((t: string) => process.stdout.write(t));
  const err = io.err ?? ((t: string) => process.stderr.write(t));
  const parsed = parseFlags(args, ['frozen-time', 'name', 'key']);
  const [sub, id, to, ...rest] = parsed?.positional ?? [];
  const valid =
    parsed && rest.length === 0 && ((sub === 'create' && id === undefined) || (sub === 'show' && id && to === undefined && parsed.flags.size === 0) || (sub === 'advance' && id && to && parsed.flags.size === 0));
  if (!valid) {
    err(USAGE);
    return 64;
  }
  const api = io.api ?? adminApi();
  try {
    if (sub === 'create') {
      const flag = (n: string) => parsed.flags.get(n)?.at(-1);
      const body = { ...(flag('name') ? { name: flag('name') } : {}), ...(flag('frozen-time') ? { frozenTime: flag('frozen-time') } : {}) };
      const res = await api.call<TestClock>('POST', '/admin/test-clocks', { body, idempotencyKey: flag('key') ?? `cli-${randomBytes(8).toString('hex')}` });
      out(show(res.body));
    } else if (sub === 'show') {
      out(show((await api.call<TestClock>('GET', `/admin/test-clocks/${encodeURIComponent(id!)}`)).body));
    } else {
      const a = await advanceClock(api, id!, to!);
      out(show(a.testClock));
      out(`  ${a.settled ? 'settled' : `NOT settled (busy: ${a.busy.join(', ')})`} after ${a.steps.length} step(s) in ${a.elapsedMs} ms, ${a.workflows} workflow(s): ${a.steps.join(', ')}\n`);
      return a.settled ? 0 : 75; // EX_TEMPFAIL: advance again to go on
    }
    return 0;
  } catch (e) {
    if (!(e instanceof ApiCallError)) throw e;
    err(`refused: ${e.message}\n`);
    return 65;
  }
}
