/**
 * Group commit for postings through a pool (the mechanism: src/shared/group-commit.ts): at most
 * LIMITS.ledgerPostCallsInFlightMax ledger_post() calls run at once per pool, and whatever is
 * submitted meanwhile waits and then goes in one call.
 *
 * Why: a posting's cost is mostly per call (a round trip, a plpgsql call, a commit and its WAL flush),
 * not per transaction, and concurrent calls that touch the same balance rows queue on each other's
 * row locks until commit. Eight writers each committing one transfer therefore do far less than two
 * calls carrying four transfers each. A caller sees no difference: its requests are still all or
 * nothing, and it gets its own answer (a shared call that fails, say on one request's insufficient
 * funds, is redone per submission).
 *
 * Two submissions never share a call when they carry the same idempotency key (the second must see
 * the first as a replay or conflict) or define one account code differently (each must meet the
 * stored definition on its own).
 */
import { GroupCommit } from '../shared/group-commit.js';
import type { AccountSpec, PostedTransaction } from './contract.js';
import { sameAccount, type PreparedRequest } from './request.js';

export interface PostingGroupOptions {
  /** Calls in flight at once; more submissions wait and are grouped. */
  callsInFlightMax: number;
  /** Ledger transactions one grouped call may carry (a single submission may be larger). */
  transactionsPerCallMax: number;
}

type Post = (prepared: PreparedRequest[]) => Promise<PostedTransaction[]>;

/**
 * @param postTogether one call for the requests of several submissions, retried on transient errors
 * @param postAlone    one submission on its own, with its rejection recorded (the ungrouped path)
 */
export function postingQueue(postTogether: Post, postAlone: Post, options: PostingGroupOptions): GroupCommit<PreparedRequest[], PostedTransaction[]> {
  return new GroupCommit<PreparedRequest[], PostedTransaction[]>(
    {
      async together(submissions) {
        const posted = await postTogether(submissions.flat());
        let offset = 0;
        return submissions.map((s) => posted.slice(offset, (offset += s.length)));
      },
      alone: postAlone,
      group(first) {
        const keys = new Set<string>();
        const accounts = new Map<string, Required<AccountSpec>>();
        let size = 0;
        const take = (s: PreparedRequest[]) => {
          size += s.length;
          for (const p of s) {
            keys.add(keyOf(p));
            for (const leg of p.legs) accounts.set(leg.account.code, leg.account);
          }
        };
        take(first);
        return {
          add(s) {
            if (size + s.length > options.transactionsPerCallMax || !compatible(s, keys, accounts)) return false;
            take(s);
            return true;
          },
        };
      },
    },
    options.callsInFlightMax,
  );
}

const keyOf = (p: PreparedRequest) => `${p.scope}\u0000${p.idempotencyKey}`;

function compatible(prepared: readonly PreparedRequest[], keys: ReadonlySet<string>, accounts: ReadonlyMap<string, Required<AccountSpec>>): boolean {
  for (const p of prepared) {
    if (keys.has(keyOf(p))) return false;
    for (const leg of p.legs) {
      const known = accounts.get(leg.account.code);
      if (known !== undefined && !sameAccount(known, leg.account)) return false;
    }
  }
  return true;
}
