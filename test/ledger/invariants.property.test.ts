/**
 * Model-based property test: fast-check generates histories of postings, batches, replays,
 * conflicting replays, reversals and over-limit debits against real Postgres; a small TS model of
 * the ledger predicts every outcome and every balance, shard by shard. After each history the
 * balances must equal the model's and the verifier must find nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AccountSpec, PostedTransaction, PostRequest } from '../../src/ledger/contract.js';
import { postTransaction, postTransactions, reverseTransaction } from '../../src/ledger/post.js';
import { shardFor } from '../../src/ledger/request.js';
import { verifyLedger, formatReport } from '../../src/ledger/verify.js';
import { AppError } from '../../src/shared/errors.js';
import { adminSql, appSql } from '../helpers/context.js';
import { AT, privateAccounts, SCOPE } from './fixtures.js';

const PROMO_CEILING_MINOR = 50_000n;
const TEAMS = ['team_a', 'team_b', 'team_c', 'team_d'];

type Accounts = ReturnType<typeof privateAccounts>;
type Outcome = { posted: string } | { rejected: string };

/** What the model remembers per key: the payload it was first sent with and what became of it. */
interface KeyRecord {
  /** Replays resend plain postings; reversals are resent by ReverseCommand. */
  kind: 'posting' | 'reversal';
  payload: string;
  outcome: Outcome;
}

interface PostedRecord {
  key: string;
  transactionId: string;
  legs: Array<{ code: string; shard: number; side: 'debit' | 'credit'; amountMinor: bigint }>;
  reversedBy: string | null;
}

class Model {
  /** Balance per `code#shard`, in normal-side terms. */
  readonly balances = new Map<string, bigint>();
  readonly keys = new Map<string, KeyRecord>();
  readonly posted: PostedRecord[] = [];
  constructor(readonly accounts: Accounts) {}

  spec(code: string): AccountSpec {
    return Object.values(this.accounts).find((v): v is AccountSpec => typeof v === 'object' && v.code === code)!;
  }

  /**
   * Applies new requests in order as one atomic batch, checking every leg's balance against its
   * account's limits: either the first violation (and nothing is kept) or each leg's balance after.
   */
  tryApply(legsPerRequest: PostedRecord['legs'][]): { violation: { index: number; code: string } } | { afters: bigint[][] } {
    const next = new Map(this.balances);
    const afters: bigint[][] = [];
    for (const [index, legs] of legsPerRequest.entries()) {
      const legAfters: bigint[] = [];
      for (const leg of legs) {
        const spec = this.spec(leg.code);
        const normal = spec.kind === 'asset' || spec.kind === 'expense' ? 'debit' : 'credit';
        const slot = `${leg.code}#${leg.shard}`;
        const after = (next.get(slot) ?? 0n) + (leg.side === normal ? leg.amountMinor : -leg.amountMinor);
        if (spec.minBalanceMinor !== null && after < spec.minBalanceMinor) return { violation: { index, code: 'insufficient_funds' } };
        if (spec.maxBalanceMinor !== null && after > spec.maxBalanceMinor) return { violation: { index, code: 'limit_exceeded' } };
        next.set(slot, after);
        legAfters.push(after);
      }
      afters.push(legAfters);
    }
    for (const [slot, balance] of next) this.balances.set(slot, balance);
    return { afters };
  }
}

interface Real {
  accounts: Accounts;
}

function resolvedLegs(r: PostRequest): PostedRecord['legs'] {
  return r.legs.map((l) => ({ code: l.account.code, shard: shardFor(l.shardKey ?? r.idempotencyKey, l.account.shards ?? 1), side: l.side, amountMinor: l.amountMinor }));
}

const payloadOf = (r: PostRequest) => JSON.stringify(resolvedLegs(r), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

async function outcome<T>(p: Promise<T>): Promise<{ ok: T } | { err: AppError }> {
  try {
    return { ok: await p };
  } catch (err) {
    if (err instanceof AppError) return { err };
    throw err;
  }
}

/** Checks a fresh posting's entries against the model's balances after each leg. */
function expectEntries(posted: PostedTransaction, legs: PostedRecord['legs'], afters: bigint[]): void {
  expect(posted.entries.map((e) => [e.accountCode, e.shard, e.side, e.amountMinor, e.balanceAfterMinor])).toEqual(
    legs.map((l, i) => [l.code, l.shard, l.side, l.amountMinor, afters[i]]),
  );
}

/** Submits fresh requests (single or batch) and checks the outcome the model predicts. */
async function submitFresh(m: Model, requests: PostRequest[]): Promise<void> {
  const legs = requests.map(resolvedLegs);
  const predicted = m.tryApply(legs);
  const result = await outcome(requests.length === 1 ? postTransaction(appSql(), requests[0]!).then((p) => [p]) : postTransactions(appSql(), requests));
  if ('violation' in predicted) {
    expect('err' in result && result.err.code).toBe(predicted.violation.code);
    const culprit = requests[predicted.violation.index]!;
    expect('err' in result && result.err.details?.idempotencyKey).toBe(culprit.idempotencyKey);
    m.keys.set(culprit.idempotencyKey, { kind: 'posting', payload: payloadOf(culprit), outcome: { rejected: predicted.violation.code } });
    return;
  }
  if (!('ok' in result)) throw result.err;
  result.ok.forEach((posted, i) => {
    expect(posted.replayed).toBe(false);
    expectEntries(posted, legs[i]!, predicted.afters[i]!);
    m.keys.set(requests[i]!.idempotencyKey, { kind: 'posting', payload: payloadOf(requests[i]!), outcome: { posted: posted.transactionId } });
    m.posted.push({ key: requests[i]!.idempotencyKey, transactionId: posted.transactionId, legs: legs[i]!, reversedBy: null });
  });
}

let keySeq = 0;
const freshKey = (kind: string) => `${kind}-${keySeq++}`;

type Make = (a: Accounts, amountMinor: bigint, team: string) => PostRequest;
const MOVES: Record<string, Make> = {
  topUp: (a, amt, t) => req(freshKey('top-up'), [[a.clearing, 'debit', amt, t], [a.wallet, 'credit', amt]]),
  spend: (a, amt, t) => req(freshKey('spend'), [[a.wallet, 'debit', amt], [a.revenue, 'credit', amt, t]]),
  grantPromo: (a, amt, t) => req(freshKey('grant'), [[a.clearing, 'debit', amt, t], [a.promo, 'credit', amt]]),
  spendPromo: (a, amt, t) => req(freshKey('promo-spend'), [[a.promo, 'debit', amt], [a.revenue, 'credit', amt, t]]),
  invoice: (a, amt, t) => req(freshKey('invoice'), [[a.receivable, 'debit', amt], [a.revenue, 'credit', amt, t]]),
  collect: (a, amt, t) => req(freshKey('collect'), [[a.clearing, 'debit', amt, t], [a.receivable, 'credit', amt]]),
};

function req(key: string, legs: Array<[AccountSpec, 'debit' | 'credit', bigint, string?]>): PostRequest {
  return {
    scope: SCOPE,
    idempotencyKey: key,
    code: 'property',
    effectiveAt: AT,
    legs: legs.map(([account, side, amountMinor, shardKey]) => ({ account, side, amountMinor, ...(shardKey ? { shardKey } : {}) })),
  };
}

const amountArb = fc.bigInt({ min: 1n, max: 30_000n });
const moveArb = fc.record({ kind: fc.constantFrom(...Object.keys(MOVES)), amountMinor: amountArb, team: fc.constantFrom(...TEAMS) });

class PostCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly move: { kind: string; amountMinor: bigint; team: string }) {}
  check = () => true;
  async run(m: Model, r: Real) {
    await submitFresh(m, [MOVES[this.move.kind]!(r.accounts, this.move.amountMinor, this.move.team)]);
  }
  toString = () => `post(${this.move.kind} ${this.move.amountMinor} ${this.move.team})`;
}

class BatchCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly moves: Array<{ kind: string; amountMinor: bigint; team: string }>) {}
  check = () => true;
  async run(m: Model, r: Real) {
    await submitFresh(m, this.moves.map((mv) => MOVES[mv.kind]!(r.accounts, mv.amountMinor, mv.team)));
  }
  toString = () => `batch(${this.moves.map((mv) => `${mv.kind} ${mv.amountMinor}`).join(', ')})`;
}

/** Sends an earlier key again, with its payload or a changed amount. */
class ReplayCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number, readonly change: boolean) {}
  check = (m: Readonly<Model>) => [...m.keys.values()].some((k) => k.kind === 'posting');
  async run(m: Model) {
    const keys = [...m.keys].filter(([, k]) => k.kind === 'posting').map(([key]) => key);
    const key = keys[this.pick % keys.length]!;
    const record = m.keys.get(key)!;
    const legs = JSON.parse(record.payload) as Array<{ code: string; shard: number; side: 'debit' | 'credit'; amountMinor: string }>;
    const delta = this.change ? 1n : 0n;
    // Legs carry the resolved shard; the shard key that resolves to it is found among the candidates.
    const request: PostRequest = {
      scope: SCOPE,
      idempotencyKey: key,
      code: 'property',
      effectiveAt: AT,
      legs: legs.map((l) => ({ account: m.spec(l.code), side: l.side, amountMinor: BigInt(l.amountMinor) + delta, ...shardKeyFor(m.spec(l.code), l.shard, key) })),
    };
    const result = await outcome(postTransaction(appSql(), request));
    if (this.change) {
      expect('err' in result && result.err.code).toBe('idempotency_conflict');
    } else if ('posted' in record.outcome) {
      expect('ok' in result && result.ok.replayed).toBe(true);
      expect('ok' in result && result.ok.transactionId).toBe(record.outcome.posted);
    } else {
      expect('err' in result && result.err.code).toBe(record.outcome.rejected);
    }
  }
  toString = () => `replay(#${this.pick}${this.change ? ', changed' : ''})`;
}

function shardKeyFor(spec: AccountSpec, shard: number, key: string): { shardKey?: string } {
  if ((spec.shards ?? 1) === 1) return {};
  const found = [...TEAMS, key].find((t) => shardFor(t, spec.shards!) === shard);
  return found === key ? {} : { shardKey: found! };
}

/** Reverses an earlier posting, under a key of its own or under a fresh one. */
class ReverseCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number, readonly keyVariant: number) {}
  check = (m: Readonly<Model>) => m.posted.length > 0;
  async run(m: Model) {
    const original = m.posted[this.pick % m.posted.length]!;
    const key = `reverse-${original.transactionId}-${this.keyVariant}`;
    const mirrored = original.legs.map((l) => ({ ...l, side: l.side === 'debit' ? ('credit' as const) : ('debit' as const) }));
    const payload = JSON.stringify(mirrored, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    const result = await outcome(reverseTransaction(appSql(), { transactionId: original.transactionId, scope: SCOPE, idempotencyKey: key, effectiveAt: AT }));
    const known = m.keys.get(key);
    if (known) {
      if ('posted' in known.outcome) expect('ok' in result && result.ok.replayed && result.ok.transactionId).toBe(known.outcome.posted);
      else expect('err' in result && result.err.code).toBe(known.outcome.rejected);
      return;
    }
    if (original.reversedBy !== null) {
      expect('err' in result && result.err.code).toBe('conflict');
      return;
    }
    const predicted = m.tryApply([mirrored]);
    if ('violation' in predicted) {
      expect('err' in result && result.err.code).toBe(predicted.violation.code);
      m.keys.set(key, { kind: 'reversal', payload, outcome: { rejected: predicted.violation.code } });
      return;
    }
    if (!('ok' in result)) throw result.err;
    expectEntries(result.ok, mirrored, predicted.afters[0]!);
    original.reversedBy = result.ok.transactionId;
    m.keys.set(key, { kind: 'reversal', payload, outcome: { posted: result.ok.transactionId } });
    m.posted.push({ key, transactionId: result.ok.transactionId, legs: mirrored, reversedBy: null });
  }
  toString = () => `reverse(#${this.pick}, key ${this.keyVariant})`;
}

const commands = [
  moveArb.map((mv) => new PostCommand(mv)),
  fc.array(moveArb, { minLength: 2, maxLength: 6 }).map((mvs) => new BatchCommand(mvs)),
  fc.tuple(fc.nat(), fc.boolean()).map(([pick, change]) => new ReplayCommand(pick, change)),
  fc.tuple(fc.nat(), fc.nat({ max: 1 })).map(([pick, variant]) => new ReverseCommand(pick, variant)),
];

async function storedBalances(a: Accounts): Promise<Map<string, bigint>> {
  const codes = Object.values(a).filter((v): v is AccountSpec => typeof v === 'object').map((s) => s.code);
  const rows = await appSql()<{ code: string; shard: number; balance_minor: bigint; version: bigint }[]>`
    select a.code, b.shard, b.balance_minor, b.version from ledger_balances b join ledger_accounts a on a.id = b.account_id
    where a.code in ${appSql()(codes)} and b.version > 0`;
  return new Map(rows.map((r) => [`${r.code}#${r.shard}`, r.balance_minor]));
}

describe('ledger invariants over generated histories', () => {
  it('agree with a model of balances and outcomes, and leave nothing for the verifier to find', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 40, size: 'max' }), async (cmds) => {
        const accounts = privateAccounts(PROMO_CEILING_MINOR);
        const model = new Model(accounts);
        await fc.asyncModelRun(() => ({ model, real: { accounts } }), cmds);
        const stored = await storedBalances(accounts);
        for (const slot of new Set([...stored.keys(), ...model.balances.keys()])) {
          expect(stored.get(slot) ?? 0n, slot).toBe(model.balances.get(slot) ?? 0n);
        }
      }),
      { numRuns: 30 },
    );
    const report = await verifyLedger(adminSql());
    expect(report.ok, formatReport(report)).toBe(true);
  });
});
